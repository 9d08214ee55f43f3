"""What every sandbox shares: it runs only in development or test, is served on loopback only
with the access log off (its URLs carry NINs, tokens and one-time links), and renders its own
small pages."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

ALLOWED_ENVIRONMENTS = frozenset({"development", "test"})


class SandboxRefusedError(RuntimeError):
    """The sandbox was asked to run where it must not (production, or a bad configuration)."""


def environment_refuse(environment: object, sandbox: str) -> None:
    """Raise unless the environment is development or test; `sandbox` names it."""
    name = str(getattr(environment, "value", environment))
    if name not in ALLOWED_ENVIRONMENTS:
        raise SandboxRefusedError(f"{sandbox} runs only in development or test, not in {name!r}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket made with IPPROTO_TCP, so that asyncio sets TCP_NODELAY on the
    connections it accepts (uvicorn's own socket does not, and every answer then waits on a
    delayed ACK)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def sandbox_serve(
    app: FastAPI,
    *,
    sandbox: str,
    banner: str,
    host: str,
    port: int,
    log_level: str,
    allow_remote: bool = False,
) -> None:
    """Serve a sandbox's `app` until stopped, loopback only unless `allow_remote`, after
    printing its `banner`."""
    if not allow_remote and not is_loopback(host):
        raise SandboxRefusedError(f"{sandbox} listens on loopback only, not {host}")
    print(banner, flush=True)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on")
    )
    sock = loopback_socket(host, port)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def templates_environment(folder: Path) -> Environment:
    """The Jinja environment of a sandbox's own pages: escaped, strict about missing names."""
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
