"""Back-channel logout, sent: a signed `logout+jwt` POSTed to each client that served a session
(OpenID Connect Back-Channel Logout 1.0, section 2.5), with a bounded timeout and a User-Agent."""

from __future__ import annotations

import logging

import httpx2

from portal.sandbox.idp.clients import http_client

logger = logging.getLogger("portal.sandbox.idp")

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 (a media type, not a secret)


def backchannel_send(*, client_id: str, uri: str, logout_token: str, timeout: float) -> bool:
    """POST one logout token; True when the client answered 200 (or 204). Failures are logged
    by client and status, never with the token, and never stop the logout."""
    try:
        with http_client(timeout) as http:
            response = http.post(
                uri, data={"logout_token": logout_token}, headers={"Cache-Control": "no-store"}
            )
    except httpx2.HTTPError as error:
        logger.warning(
            "back-channel logout to client %s failed: %s", client_id, type(error).__name__
        )
        return False
    if response.status_code not in (200, 204):
        logger.warning(
            "back-channel logout to client %s answered %s", client_id, response.status_code
        )
        return False
    logger.info("back-channel logout delivered to client %s", client_id)
    return True
