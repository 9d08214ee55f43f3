"""A raw request body read within a limit, for machine endpoints (signed deliveries)."""

from __future__ import annotations

from fastapi import Request


async def body_read(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is longer than `limit` bytes (as announced, or as
    read: reading stops there)."""
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
