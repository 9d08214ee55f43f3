"""HTTP for the sandbox bus: thin async routes over `Engine`.

Bodies are read with a cap before anything parses them. Engine calls pass the `server_error`
switch, then the token check, then the size check, in that order.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from portal.bus.govesb.envelope import MAX_ENVELOPE_BYTES
from portal.bus.govesb.keys import public_key_text
from portal.sandbox.esb.config import EsbClient
from portal.sandbox.esb.engine import Answer, Engine, OAuthError

MAX_FORM_BYTES = 16_384
MAX_FAULTS_BYTES = 16_384
# An oversized body is still read (and dropped) up to this much, so the client sees the 413
# rather than a connection reset while it is still sending.
MAX_DRAINED_BYTES = 16 * MAX_ENVELOPE_BYTES
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

router = APIRouter()


def engine_get(request: Request) -> Engine:
    engine: Engine = request.app.state.esb
    return engine


EngineDep = Annotated[Engine, Depends(engine_get)]
EngineCall = Callable[[Engine, EsbClient, bytes], Awaitable[Answer]]


async def _body_read(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` bytes."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_DRAINED_BYTES:
        return None
    received = bytearray()
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > MAX_DRAINED_BYTES:
            return None
        if seen <= limit:
            received += chunk
    return bytes(received) if seen <= limit else None


def _oauth_error(error: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if error.error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="govesb-uaa"'
    elif error.error == "invalid_token":
        headers["WWW-Authenticate"] = 'Bearer realm="govesb", error="invalid_token"'
    elif error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="govesb"'
    return JSONResponse(
        {"error": error.error, "error_description": error.description},
        status_code=error.status,
        headers=headers,
    )


# ----- tokens


@router.post("/gw/govesb-uaa/oauth/token")
async def token(request: Request, engine: EngineDep) -> Response:
    body = await _body_read(request, MAX_FORM_BYTES)
    if body is None:
        return _oauth_error(OAuthError(413, "invalid_request", "The request is too large"))
    form: dict[str, str] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            pairs = []
        form = dict(pairs)
        if len(form) != len(pairs):
            return _oauth_error(OAuthError(400, "invalid_request", "A parameter is repeated"))
    try:
        issued = engine.token_issue(authorization=request.headers.get("authorization"), form=form)
    except OAuthError as error:
        return _oauth_error(error)
    return JSONResponse(issued, headers=NO_STORE)


# ----- the engine


async def _engine_call(request: Request, engine: Engine, call: EngineCall) -> Response:
    status = engine.faults.switches.server_error
    if status is not None:
        return Response(status_code=status)
    try:
        client = engine.bearer_client(request.headers.get("authorization"))
    except OAuthError as error:
        return _oauth_error(error)
    body = await _body_read(request, MAX_ENVELOPE_BYTES)
    if body is None:
        answer = engine.refusal("the envelope is larger than 1 MiB", 413)
    else:
        answer = await call(engine, client, body)
    return Response(answer.body, status_code=answer.status, media_type="application/json")


async def _request(engine: Engine, client: EsbClient, body: bytes) -> Answer:
    return await engine.pull(client, body, nida=False)


async def _nida_request(engine: Engine, client: EsbClient, body: bytes) -> Answer:
    return await engine.pull(client, body, nida=True)


async def _push_request(engine: Engine, client: EsbClient, body: bytes) -> Answer:
    return await engine.push(client, body)


async def _async_result(engine: Engine, client: EsbClient, body: bytes) -> Answer:
    return await engine.async_result(client, body)


@router.post("/engine/esb/request")
async def request_pull(request: Request, engine: EngineDep) -> Response:
    return await _engine_call(request, engine, _request)


@router.post("/engine/esb/nida-request")
async def nida_request(request: Request, engine: EngineDep) -> Response:
    return await _engine_call(request, engine, _nida_request)


@router.post("/engine/esb/push-request")
async def push_request(request: Request, engine: EngineDep) -> Response:
    return await _engine_call(request, engine, _push_request)


@router.post("/engine/esb/async")
@router.post("/engine/esb/async-response")
async def async_response(request: Request, engine: EngineDep) -> Response:
    return await _engine_call(request, engine, _async_result)


# ----- sandbox hooks


@router.get("/sandbox/public-key")
def public_key(engine: EngineDep) -> JSONResponse:
    """The bus's public key (bare base64 SPKI), which institutions verify it with."""
    return JSONResponse({"publicKey": public_key_text(engine.config.private_key)})


@router.get("/sandbox/faults")
def faults_read(engine: EngineDep) -> JSONResponse:
    return JSONResponse(engine.faults.as_dict())


@router.post("/sandbox/faults")
async def faults_write(request: Request, engine: EngineDep) -> JSONResponse:
    """Set the switches named in the JSON object sent; `"tokens_expire": true` expires every
    token issued so far."""
    body = await _body_read(request, MAX_FAULTS_BYTES)
    if body is None:
        return JSONResponse({"error": "the request is too large"}, status_code=413)
    try:
        values: Any = json.loads(body or b"{}")
        if not isinstance(values, dict):
            raise TypeError("send a JSON object")
        expire = values.pop("tokens_expire", False)
        if not isinstance(expire, bool):
            raise TypeError("tokens_expire must be true or false")
        engine.faults.set(**values)
    except (ValueError, TypeError) as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    if expire:
        engine.faults.tokens_expire()
    return JSONResponse(engine.faults.as_dict())


@router.delete("/sandbox/faults")
def faults_reset(engine: EngineDep) -> JSONResponse:
    engine.faults.reset()
    return JSONResponse(engine.faults.as_dict())


@router.get("/sandbox/deliveries")
def deliveries(engine: EngineDep) -> JSONResponse:
    """The deliveries made, oldest first: kind, code, requestId, target, outcome."""
    return JSONResponse([dataclasses.asdict(r) for r in engine.deliveries.entries()])
