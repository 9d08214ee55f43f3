"""Keep secrets that travel in query strings out of the access log.

The sign-in callback carries `code` and `state`, a logout `id_token_hint` or `state`; the access
log would write them with the address. The filter blanks their values, whatever the route.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode

SENSITIVE = frozenset(
    {"code", "state", "id_token", "id_token_hint", "logout_token", "nin", "session_state"}
)


def redact(target: str) -> str:
    """`target` (a path with its query) with the values of sensitive parameters replaced."""
    path, separator, query = target.partition("?")
    if not separator:
        return target
    pairs = parse_qsl(query, keep_blank_values=True)
    shown = [(key, "[redacted]" if key.lower() in SENSITIVE else value) for key, value in pairs]
    return f"{path}?{urlencode(shown)}"


class QueryRedaction(logging.Filter):
    """For uvicorn's access log, whose arguments are (client, method, target, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def access_log_redact() -> None:
    """Install the filter once on uvicorn's access logger."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryRedaction) for f in access.filters):
        access.addFilter(QueryRedaction())
