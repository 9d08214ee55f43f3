"""Apps served for real on loopback, in a thread: the live portal of the browser tests, the
sandbox provider, the portal beside an independent provider."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI


def free_socket() -> socket.socket:
    """A listening TCP socket on a free loopback port. IPPROTO_TCP, so that asyncio sets
    TCP_NODELAY on the connections it accepts (see portal.cli)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def address_of(sock: socket.socket) -> str:
    """The base URL of what listens on `sock`."""
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def served(app: FastAPI, sock: socket.socket) -> Iterator[None]:
    """Serve `app` on `sock` in a thread until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="critical", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("a server did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
