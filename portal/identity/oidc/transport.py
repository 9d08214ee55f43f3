"""HTTP to the provider: bounded timeouts and sizes, our User-Agent, no redirects followed.

Every transport failure and every 5xx becomes `ProviderUnavailable`; other statuses are left to
the caller, who knows what the endpoint may answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2

from portal.identity.oidc.errors import ProviderUnavailable


@dataclass(frozen=True)
class Reply:
    """A provider's answer, read whole (within the size limit)."""

    status: int
    headers: httpx2.Headers
    body: bytes

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower case ("" when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None when it is not one."""
        try:
            data = json.loads(self.body)
        except ValueError:
            return None  # the decode error would quote the body: drop it
        return data if isinstance(data, dict) else None


class ProviderHttp:
    """A thin client for the provider's endpoints."""

    def __init__(
        self,
        *,
        http: httpx2.Client | None,
        timeout_seconds: float,
        user_agent: str,
        max_response_bytes: int,
    ) -> None:
        self._owned = http is None
        self._http = http or httpx2.Client(follow_redirects=False)
        self._timeout = httpx2.Timeout(timeout_seconds)
        self._user_agent = user_agent
        self._max_bytes = max_response_bytes

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Reply:
        """GET `url`."""
        return self._send("GET", url, headers=headers)

    def post_form(
        self, url: str, form: Mapping[str, str], *, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """POST `form` to `url` as application/x-www-form-urlencoded."""
        return self._send("POST", url, headers=headers, data=dict(form))

    def close(self) -> None:
        """Close the HTTP client, if this object made it."""
        if self._owned:
            self._http.close()

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        data: dict[str, str] | None = None,
    ) -> Reply:
        request_headers = {"User-Agent": self._user_agent, "Accept": "application/json"}
        request_headers.update(headers or {})
        try:
            with self._http.stream(
                method,
                url,
                headers=request_headers,
                data=data,
                timeout=self._timeout,
                follow_redirects=False,
            ) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise ProviderUnavailable("too_large")
        except httpx2.TimeoutException as error:
            raise ProviderUnavailable("timeout") from error
        except httpx2.HTTPError as error:
            raise ProviderUnavailable("network") from error
        if response.status_code >= 500:
            raise ProviderUnavailable("status")
        return Reply(status=response.status_code, headers=response.headers, body=bytes(body))


def cache_lifetime(headers: httpx2.Headers, *, default: int, maximum: int) -> int:
    """Seconds a response may be reused for, per its Cache-Control (no-store, no-cache: none)."""
    directives = [
        d.strip().lower() for d in headers.get("cache-control", "").split(",") if d.strip()
    ]
    if "no-store" in directives or "no-cache" in directives:
        return 0
    for directive in directives:
        name, _, value = directive.partition("=")
        if name.strip() == "max-age":
            try:
                return max(0, min(int(value.strip().strip('"')), maximum))
            except ValueError:
                return default
    return min(default, maximum)
