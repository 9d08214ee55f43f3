"""The sandbox bus's behaviour: tokens, consumer calls, deliveries to providers and subscribers,
late (async) results. Routes turn HTTP into calls here and `Answer`s back into HTTP.

What the spec leaves open (section 14) is decided here, and in README.md:
- auth problems (no, unknown or expired token; bad client credentials) answer 401 with an
  unsigned OAuth2-style JSON error;
- after auth every answer is a signed envelope of `esb_response_data` with `success` false and a
  fresh `requestId`: HTTP 400 for an envelope that does not verify or lacks a required member,
  413 for one over 1 MiB, and HTTP 200 for everything else (unknown or unauthorised code, wrong
  NIDA userId, provider timeout, unreachable provider, provider failure, provider answer that
  does not verify);
- a NIDA delivery carries the consumer's `userId` on to the provider;
- a push goes to every subscriber in order with the same `requestId`; the pusher's answer
  succeeds only when every subscriber's does, and its `esbBody` lists each subscriber's result;
- a provider answers a delivery inline (that answer goes to the consumer, whatever it says) and
  may post the final result later to /async, which the bus keeps and delivers to the consumer's
  `callback_url`, signed, as the response it would have had inline plus `apiCode`.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hmac
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2

from portal.bus.govesb.envelope import (
    MAX_ENVELOPE_BYTES,
    EnvelopeRejected,
    compact,
    delivery_data,
    envelope,
    envelope_open,
    esb_response_data,
    reply_open,
    signature_valid,
)
from portal.bus.govesb.keys import PrivateKey, private_key_generate
from portal.sandbox.esb.config import EsbClient, EsbConfig
from portal.sandbox.esb.faults import (
    DeliveryKind,
    DeliveryLog,
    DeliveryRecord,
    EsbFaults,
    Outcome,
)
from portal.sandbox.esb.tokens import TokenStore

logger = logging.getLogger("portal.sandbox.esb")

TOKEN_SCOPE = "read write"  # noqa: S105 (a scope, not a secret)
# Requests kept for matching a later /async result, and results kept; the oldest go first.
MAX_REMEMBERED = 10_000
MAX_CONNECT_SECONDS = 3.0
SUCCESS_MESSAGE = "Success"
UNSIGNABLE_MESSAGE = "the data holds a float or a lone surrogate; send such numbers as strings"
REJECTION_MESSAGES: dict[str, str] = {
    "too_large": "the envelope is larger than 1 MiB",
    "malformed": "the body is not a JSON envelope with an object data and a string signature",
    "unsigned": "the envelope carries no signature",
    "bad_signature": "signature verification failed",
    "incomplete": "the envelope lacks a required member",
}


class OAuthError(Exception):
    """An unsigned OAuth2-style refusal: `status` with {"error", "error_description"}."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class Refusal(Exception):
    """A consumer call the bus will not carry out, answered with a signed failure."""

    def __init__(self, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Answer:
    """What an engine call answers: an HTTP status and a signed envelope."""

    status: int
    body: bytes


@dataclass(frozen=True)
class Forwarded:
    """A request the bus delivered to a provider, waiting perhaps for an /async result."""

    code: str
    consumer: str
    provider: str


@dataclass(frozen=True)
class AsyncResult:
    """A provider's late answer to a forwarded request."""

    request_id: str
    code: str
    consumer: str
    provider: str
    success: bool
    message: str | None
    esb_body: Any
    callback: Outcome | None  # None: not delivered (no callback_url, or under way)


@dataclass(frozen=True)
class _Result:
    outcome: Outcome
    message: str
    esb_body: Any = None

    @property
    def success(self) -> bool:
        return self.outcome == "success"


class Engine:
    """One running bus: its tokens, fault switches, delivery log and remembered requests."""

    def __init__(self, config: EsbConfig) -> None:
        self.config = config
        self.tokens = TokenStore(lifetime=config.token_lifetime, clock=config.clock)
        self.faults = EsbFaults(self.tokens)
        self.deliveries = DeliveryLog()
        self._stray_key = private_key_generate()
        self._forwarded: OrderedDict[str, Forwarded] = OrderedDict()
        self._results: OrderedDict[str, AsyncResult] = OrderedDict()
        self._lock = threading.Lock()
        self._http = httpx2.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx2.Timeout(
                config.provider_timeout,
                connect=min(config.provider_timeout, MAX_CONNECT_SECONDS),
            ),
        )

    async def close(self) -> None:
        await self._http.aclose()

    # ----- tokens

    def token_issue(self, *, authorization: str | None, form: Mapping[str, str]) -> dict[str, Any]:
        """The token response for a client_credentials grant; OAuthError otherwise."""
        client = self._client_authenticate(authorization, form)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "Missing grant type")
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "Only client_credentials is supported")
        issued = self.tokens.issue(client.client_id)
        logger.info("token issued to client %s", client.client_id)
        return {
            "access_token": issued.token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "scope": TOKEN_SCOPE,
        }

    def _client_authenticate(self, authorization: str | None, form: Mapping[str, str]) -> EsbClient:
        """The client named by the Basic header and/or the form; what both carry must agree."""
        form_id, form_secret = form.get("client_id"), form.get("client_secret")
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "basic":
                raise OAuthError(401, "invalid_client", "Bad client credentials")
            client_id, secret = _basic_decode(value.strip())
            if form_id not in (None, client_id) or form_secret not in (None, secret):
                raise OAuthError(401, "invalid_client", "Bad client credentials")
        elif form_id is not None and form_secret is not None:
            client_id, secret = form_id, form_secret
        else:
            raise OAuthError(401, "invalid_client", "Full authentication is required")
        client = self.config.client(client_id)
        if client is None or not hmac.compare_digest(
            secret.encode("utf-8"), client.client_secret.encode("utf-8")
        ):
            logger.info("token refused: bad client credentials")
            raise OAuthError(401, "invalid_client", "Bad client credentials")
        return client

    def bearer_client(self, authorization: str | None) -> EsbClient:
        """The client whose live token the Authorization header carries; OAuthError (401)."""
        if not authorization:
            raise OAuthError(401, "unauthorized", "Full authentication is required")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            token = value.strip()
        elif self.config.lenient_bare_token and " " not in authorization.strip():
            token = authorization.strip()
        else:
            raise OAuthError(401, "invalid_token", "Send the token as Bearer")
        client_id = self.tokens.client_of(token)
        client = self.config.client(client_id) if client_id else None
        if client is None:
            raise OAuthError(401, "invalid_token", "Invalid or expired access token")
        return client

    # ----- engine calls

    def refusal(self, message: str, status: int) -> Answer:
        """A signed failure for a call refused before it was read (too large)."""
        return self._failure(uuid.uuid1().hex, Refusal(message, status))

    async def pull(self, client: EsbClient, body: bytes, *, nida: bool) -> Answer:
        """/request and /nida-request: deliver to the code's provider, relay its answer."""
        kind: DeliveryKind = "nida" if nida else "request"
        request_id = uuid.uuid1().hex
        try:
            data = self._open(body, client)
            code = _member(data, "apiCode")
            api = self.config.api_code(code)
            if api is None:
                raise Refusal("unknown apiCode")
            if code not in client.api_codes:
                raise Refusal("this client may not call this apiCode")
            user_id = self._nida_user(client, data) if nida else None
        except Refusal as refused:
            logger.info("%s %s from %s refused: %s", kind, request_id, client.client_id, refused)
            return self._failure(request_id, refused)
        provider = self._registered(api.provider)
        with self._lock:
            self._forwarded[request_id] = Forwarded(code, client.client_id, provider.client_id)
            _trim(self._forwarded)
        delivery = delivery_data(
            request_id=request_id, code=code, esb_body=data.get("esbBody"), user_id=user_id
        )
        result = await self._deliver(kind, code, request_id, provider, api.url, delivery)
        return self._answer(
            200,
            esb_response_data(
                success=result.success,
                request_id=request_id,
                message=result.message,
                esb_body=result.esb_body,
            ),
        )

    async def push(self, client: EsbClient, body: bytes) -> Answer:
        """/push-request: deliver to each subscriber in order, answer with their results."""
        request_id = uuid.uuid1().hex
        try:
            data = self._open(body, client)
            code = _member(data, "pushCode")
            push = self.config.push_code(code)
            if push is None:
                raise Refusal("unknown pushCode")
            if code not in client.push_codes:
                raise Refusal("this client may not push this pushCode")
        except Refusal as refused:
            logger.info("push %s from %s refused: %s", request_id, client.client_id, refused)
            return self._failure(request_id, refused)
        delivery = delivery_data(request_id=request_id, code=code, esb_body=data.get("esbBody"))
        results: list[dict[str, Any]] = []
        for subscriber_id, url in push.subscribers:
            subscriber = self._registered(subscriber_id)
            result = await self._deliver("push", code, request_id, subscriber, url, delivery)
            results.append(
                {"subscriber": subscriber_id, "success": result.success, "message": result.message}
            )
        failed = [r["subscriber"] for r in results if not r["success"]]
        message = f"delivered to {len(results) - len(failed)} of {len(results)} subscribers"
        if failed:
            message += "; failed: " + ", ".join(failed)
        return self._answer(
            200,
            esb_response_data(
                success=not failed, request_id=request_id, message=message, esb_body=results
            ),
        )

    async def async_result(self, client: EsbClient, body: bytes) -> Answer:
        """/async: a provider's late result for a request the bus delivered to it."""
        try:
            self._open(body, client)
            try:
                reply = reply_open(body, client.public_key)
            except EnvelopeRejected as rejected:
                raise Refusal(REJECTION_MESSAGES[rejected.reason], 400) from None
            request_id = reply.request_id
            if not request_id:
                raise Refusal("requestId is required", 400)
            with self._lock:
                forwarded = self._forwarded.get(request_id)
                if forwarded is None or forwarded.provider != client.client_id:
                    raise Refusal("no request with this requestId was delivered to this client")
                if request_id in self._results:
                    raise Refusal("a result for this requestId was already received")
                kept = AsyncResult(
                    request_id=request_id,
                    code=forwarded.code,
                    consumer=forwarded.consumer,
                    provider=forwarded.provider,
                    success=reply.success,
                    message=reply.message,
                    esb_body=reply.esb_body,
                    callback=None,
                )
                self._results[request_id] = kept
                _trim(self._results)
        except Refusal as refused:
            logger.info("async result from %s refused: %s", client.client_id, refused)
            return self._failure(uuid.uuid1().hex, refused)
        consumer = self._registered(kept.consumer)
        message = "result kept; the consumer has no callback"
        if consumer.callback_url:
            data = esb_response_data(
                success=reply.success,
                request_id=request_id,
                message=reply.message
                or (SUCCESS_MESSAGE if reply.success else "the provider reported a failure"),
                esb_body=reply.esb_body,
            )
            data["apiCode"] = kept.code
            delivered = await self._deliver(
                "callback", kept.code, request_id, consumer, consumer.callback_url, data
            )
            with self._lock:
                self._results[request_id] = dataclasses.replace(kept, callback=delivered.outcome)
            message = (
                "result delivered to the consumer"
                if delivered.success
                else f"result kept; delivery to the consumer's callback: {delivered.outcome}"
            )
        return self._answer(
            200,
            esb_response_data(success=True, request_id=request_id, message=message, esb_body=None),
        )

    def async_result_of(self, request_id: str) -> AsyncResult | None:
        """The late result kept for `request_id`, if one came."""
        with self._lock:
            return self._results.get(request_id)

    # ----- helpers

    def _signing_key(self) -> PrivateKey:
        return self._stray_key if self.faults.switches.bad_signature else self.config.private_key

    def _answer(self, status: int, data: Mapping[str, Any]) -> Answer:
        return Answer(status, envelope(data, self._signing_key()))

    def _failure(self, request_id: str, refused: Refusal) -> Answer:
        return self._answer(
            refused.status,
            esb_response_data(
                success=False, request_id=request_id, message=refused.message, esb_body=None
            ),
        )

    def _registered(self, client_id: str) -> EsbClient:
        client = self.config.client(client_id)
        if client is None:  # EsbConfig checks every client a code names
            raise LookupError(f"client {client_id!r} is not registered")
        return client

    def _open(self, body: bytes, client: EsbClient) -> dict[str, Any]:
        """The verified data of the caller's envelope (verified over the compact form only when
        `strict_jackson`); a Refusal otherwise, also for data the bus could not sign on."""
        try:
            data = envelope_open(body, client.public_key)
        except EnvelopeRejected as rejected:
            status = 413 if rejected.reason == "too_large" else 400
            raise Refusal(REJECTION_MESSAGES[rejected.reason], status) from None
        if not _signable(data):
            raise Refusal(UNSIGNABLE_MESSAGE, 400)
        if self.config.strict_jackson:
            signature = json.loads(body)["signature"]
            if not signature_valid(compact(data), signature, client.public_key):
                raise Refusal(REJECTION_MESSAGES["bad_signature"], 400)
        return data

    def _nida_user(self, client: EsbClient, data: Mapping[str, Any]) -> str:
        user_id = _member(data, "userId")
        esb_body = data.get("esbBody")
        if not isinstance(esb_body, dict) or "Payload" not in esb_body:
            raise Refusal("esbBody.Payload is required", 400)
        if client.nida_user_id is None:
            raise Refusal("this client is not registered for NIDA requests")
        if user_id != client.nida_user_id:
            raise Refusal("userId is not the one registered for this client")
        return user_id

    async def _deliver(
        self,
        kind: DeliveryKind,
        code: str,
        request_id: str,
        target: EsbClient,
        url: str,
        data: Mapping[str, Any],
    ) -> _Result:
        """POST `data`, signed, to `url`; read `target`'s signed answer, within the timeout."""
        started = time.monotonic()
        switches = self.faults.switches
        if switches.provider_failing:
            result = _Result("failed", "the provider failed (sandbox fault provider_failing)")
        else:
            try:
                async with asyncio.timeout(self.config.provider_timeout):
                    if switches.provider_delay:
                        await asyncio.sleep(switches.provider_delay)
                    status, answer = await self._post(url, envelope(data, self._signing_key()))
                result = _read_answer(status, answer, target)
            except (TimeoutError, httpx2.TimeoutException):
                result = _Result(
                    "timeout",
                    f"the provider did not answer within {self.config.provider_timeout:g} s",
                )
            except httpx2.HTTPError:
                result = _Result("unreachable", "the provider could not be reached")
        self.deliveries.record(
            DeliveryRecord(kind, code, request_id, target.client_id, result.outcome)
        )
        logger.info(
            "%s %s code %s -> %s: %s in %d ms",
            kind,
            request_id,
            code,
            target.client_id,
            result.outcome,
            round((time.monotonic() - started) * 1000),
        )
        return result

    async def _post(self, url: str, body: bytes) -> tuple[int, bytes | None]:
        """The status and body of the answer; body None when it is over 1 MiB."""
        async with self._http.stream(
            "POST", url, content=body, headers={"Content-Type": "application/json"}
        ) as response:
            received = bytearray()
            async for chunk in response.aiter_bytes():
                received += chunk
                if len(received) > MAX_ENVELOPE_BYTES:
                    return response.status_code, None
            return response.status_code, bytes(received)


def _read_answer(status: int, body: bytes | None, target: EsbClient) -> _Result:
    """A provider's answer as a result: verified with its key, whatever the HTTP status."""
    if body is None:
        return _Result("bad_reply", "the provider's answer is larger than 1 MiB")
    try:
        reply = reply_open(body, target.public_key)
    except EnvelopeRejected as rejected:
        return _Result(
            "bad_reply",
            f"the provider's answer (HTTP {status}) failed verification: {rejected.reason}",
        )
    if not _signable(reply.esb_body):
        return _Result("bad_reply", f"the provider's answer: {UNSIGNABLE_MESSAGE}")
    if reply.success:
        return _Result("success", reply.message or SUCCESS_MESSAGE, reply.esb_body)
    message = reply.message or "the provider answered with a failure"
    return _Result("failed", message, reply.esb_body)


def _signable(value: Any) -> bool:
    """Whether the bus can sign `value` on: no floats, no lone surrogates."""
    try:
        compact(value)
    except (TypeError, ValueError):
        return False
    return True


def _member(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise Refusal(f"{name} is required", 400)
    return value


def _basic_decode(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise OAuthError(401, "invalid_client", "Bad client credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError(401, "invalid_client", "Bad client credentials")
    return client_id, secret


def _trim(remembered: OrderedDict[str, Any]) -> None:
    while len(remembered) > MAX_REMEMBERED:
        remembered.popitem(last=False)
