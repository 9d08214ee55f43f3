"""A GovESB consumer and producer: the OAuth2 token, then signed calls to the engine.

The token is cached until `expires_in` less a margin; a 401 from the engine drops it, fetches
one more and retries once. Each call's envelope is signed once, so a retry sends the same bytes.
A verified answer comes back as a `Reply`, even when its `success` is false; everything else is
a `BusError` saying whether the engine may have received the request.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2

from portal.bus.govesb.envelope import (
    MAX_ENVELOPE_BYTES,
    EnvelopeRejected,
    Reply,
    async_response_data,
    envelope,
    nida_request_data,
    push_data,
    reply_open,
    request_data,
)
from portal.bus.govesb.keys import PrivateKey, PublicKey

logger = logging.getLogger(__name__)

TOKEN_PATH = "/gw/govesb-uaa/oauth/token"  # noqa: S105 (a path, not a secret)
ENGINE_PATH = "/engine/esb"
DEFAULT_TOKEN_SECONDS = 3600
_MAX_CONNECT_SECONDS = 3.0
_MAX_TOKEN_REPLY_BYTES = 65_536

BusErrorReason = Literal[
    "unreachable", "timeout", "token_refused", "unauthorised", "server_error", "bad_reply"
]


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    """Who we are on the bus, and where it is."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    private_key: PrivateKey = field(repr=False)
    esb_public_key: PublicKey = field(repr=False)
    nida_user_id: str | None = None
    timeout: float = 10.0
    token_margin: float = 60.0
    bearer: bool = True
    async_path: str = "/async"

    def __post_init__(self) -> None:
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
            raise ValueError("base_url must be an http(s) host root")
        if not self.client_id or not self.client_secret:
            raise ValueError("client_id and client_secret are required")
        if not 0 < self.timeout <= 120:
            raise ValueError("timeout must be between 0 and 120 seconds")
        if self.token_margin < 0:
            raise ValueError("token_margin must not be negative")
        if not self.async_path.startswith("/"):
            raise ValueError("async_path must start with /")

    def url(self, path: str) -> str:
        """`path` under the host root."""
        return self.base_url.rstrip("/") + path


class BusError(Exception):
    """A call that did not bring back a verified answer.

    `maybe_delivered` is False only when the engine surely did not get the request (we could not
    connect, had no token, or were refused twice with 401); otherwise the caller must assume it
    may have been acted on.
    """

    reason: BusErrorReason
    maybe_delivered: bool

    def __init__(self, reason: BusErrorReason, *, maybe_delivered: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.maybe_delivered = maybe_delivered

    def __str__(self) -> str:
        return f"GovESB call failed: {self.reason}"


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float


class GovesbClient:
    """Calls to one GovESB engine with one client's credentials and keys; thread-safe."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        http: httpx2.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._owned = http is None
        self._http = http or httpx2.Client(follow_redirects=False)
        self._timeout = httpx2.Timeout(
            config.timeout, connect=min(config.timeout, _MAX_CONNECT_SECONDS)
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None

    @property
    def config(self) -> ClientConfig:
        """The configuration this client was made with (its keys answer inbound deliveries)."""
        return self._config

    def request(self, api_code: str, body: Any) -> Reply:
        """A synchronous pull with `api_code`."""
        return self._call("/request", request_data(api_code, body), code=api_code)

    def nida_request(self, api_code: str, body: Any) -> Reply:
        """A NIDA pull with `api_code`, as the configured NIDA user; `body` goes in Payload."""
        if self._config.nida_user_id is None:
            raise ValueError("nida_user_id is not configured")
        data = nida_request_data(api_code, self._config.nida_user_id, body)
        return self._call("/nida-request", data, code=api_code)

    def push(self, push_code: str, body: Any) -> Reply:
        """A push with `push_code` to its subscribers."""
        return self._call("/push-request", push_data(push_code, body), code=push_code)

    def async_response(
        self,
        *,
        request_id: str,
        success: bool,
        esb_body: Any | None = None,
        message: str | None = None,
    ) -> Reply:
        """Our late answer, as a provider, to the ESB request `request_id`."""
        data = async_response_data(
            request_id=request_id, success=success, esb_body=esb_body, message=message
        )
        return self._call(self._config.async_path, data, code=None)

    def close(self) -> None:
        """Close the HTTP client, if this object made it."""
        if self._owned:
            self._http.close()

    # --- the engine --------------------------------------------------------------------------

    def _call(self, path: str, data: Mapping[str, Any], *, code: str | None) -> Reply:
        body = envelope(data, self._config.private_key)
        started = time.monotonic()
        try:
            answer = self._post_authorised(path, body)
            if answer.status >= 500:
                raise BusError("server_error", maybe_delivered=True)
            try:
                reply = reply_open(answer.body, self._config.esb_public_key)
            except EnvelopeRejected as rejected:
                logger.warning(
                    "govesb %s code=%s status=%d rejected reply: %s",
                    path,
                    code,
                    answer.status,
                    rejected.reason,
                )
                raise BusError("bad_reply", maybe_delivered=True) from None
        except BusError as error:
            logger.warning(
                "govesb %s code=%s failed: %s (maybe delivered: %s) in %d ms",
                path,
                code,
                error.reason,
                error.maybe_delivered,
                _milliseconds_since(started),
            )
            raise
        logger.info(
            "govesb %s code=%s request_id=%s success=%s in %d ms",
            path,
            code,
            reply.request_id,
            reply.success,
            _milliseconds_since(started),
        )
        return reply

    def _post_authorised(self, path: str, body: bytes) -> _Answer:
        token = self._token_value()
        answer = self._engine_post(path, body, token)
        if answer.status != 401:
            return answer
        logger.info("govesb %s answered 401: fetching a new token", path)
        self._token_drop(token)
        answer = self._engine_post(path, body, self._token_value())
        if answer.status == 401:
            raise BusError("unauthorised", maybe_delivered=False)
        return answer

    def _engine_post(self, path: str, body: bytes, token: str) -> _Answer:
        authorization = f"Bearer {token}" if self._config.bearer else token
        return self._send(
            self._config.url(ENGINE_PATH + path),
            content=body,
            headers={
                "Authorization": authorization,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            max_bytes=MAX_ENVELOPE_BYTES,
        )

    # --- the token ---------------------------------------------------------------------------

    def _token_value(self) -> str:
        with self._lock:
            if self._token is not None and self._clock() < self._token.expires_at:
                return self._token.value
            self._token = self._token_fetch()
            return self._token.value

    def _token_drop(self, value: str) -> None:
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def _token_fetch(self) -> _Token:
        config = self._config
        credentials = f"{config.client_id}:{config.client_secret}".encode()
        try:
            answer = self._send(
                config.url(TOKEN_PATH),
                data={
                    "client_id": config.client_id,
                    "client_secret": config.client_secret,
                    "grant_type": "client_credentials",
                },
                headers={
                    "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
                    "Accept": "application/json",
                },
                max_bytes=_MAX_TOKEN_REPLY_BYTES,
            )
        except BusError as error:
            raise BusError(error.reason, maybe_delivered=False) from None
        if answer.status >= 500:
            raise BusError("server_error", maybe_delivered=False)
        token = _token_read(answer) if answer.status == 200 else None
        if token is None:
            logger.warning("govesb token refused: status %d", answer.status)
            raise BusError("token_refused", maybe_delivered=False)
        value, lifetime = token
        return _Token(value=value, expires_at=self._clock() + lifetime - config.token_margin)

    # --- HTTP --------------------------------------------------------------------------------

    def _send(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        max_bytes: int,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
    ) -> _Answer:
        deadline = time.monotonic() + 2 * self._config.timeout
        try:
            with self._http.stream(
                "POST",
                url,
                content=content,
                data=dict(data) if data is not None else None,
                headers=dict(headers),
                timeout=self._timeout,
                follow_redirects=False,
            ) as response:
                received = bytearray()
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > max_bytes:
                        raise BusError("bad_reply", maybe_delivered=True)
                    if time.monotonic() > deadline:
                        raise BusError("timeout", maybe_delivered=True)
        except httpx2.ConnectTimeout:
            raise BusError("unreachable", maybe_delivered=False) from None
        except httpx2.TimeoutException:
            raise BusError("timeout", maybe_delivered=True) from None
        except httpx2.ConnectError:
            raise BusError("unreachable", maybe_delivered=False) from None
        except httpx2.HTTPError:
            raise BusError("unreachable", maybe_delivered=True) from None
        return _Answer(status=response.status_code, body=bytes(received))


def _token_read(answer: _Answer) -> tuple[str, float] | None:
    """The access token and its lifetime in seconds from a token reply, or None."""
    try:
        reply = json.loads(answer.body)
    except ValueError:
        return None  # the decode error would quote the body: drop it
    if not isinstance(reply, dict):
        return None
    value = reply.get("access_token")
    lifetime = reply.get("expires_in", DEFAULT_TOKEN_SECONDS)
    if isinstance(lifetime, str) and lifetime.isdigit():
        lifetime = int(lifetime)
    if (
        not isinstance(value, str)
        or not value
        or isinstance(lifetime, bool)
        or not isinstance(lifetime, int)
        or lifetime <= 0
    ):
        return None
    return value, float(lifetime)


def _milliseconds_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
