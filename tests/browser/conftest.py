"""A live server in a thread, Debian's Chromium driven by Playwright, and axe-core.

Without Chromium or axe-core the browser tests skip with the reason; under CI=true they fail,
because CI installs both and a skip there would hide a broken install.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page

from portal.app import create_app
from portal.config import PROJECT_ROOT, SearchSettings, Settings
from portal.web.ratelimit import RateLimiter
from tests.servers import address_of, free_socket, served

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium"))
# Keep Chromium's own lookups of outside hosts off the network; loopback still resolves.
CHROMIUM_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"]
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
FAILING_PATH = "/kosa-la-majaribio"


def _require(path: Path, what: str) -> None:
    if path.exists():
        return
    message = f"{what} not found at {path}; `make test` installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    _require(CHROMIUM, "Chromium")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def axe_source() -> str:
    _require(AXE, "axe-core")
    return AXE.read_text(encoding="utf-8")


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve an app on a free loopback port in a thread; yields its base URL."""
    sock = free_socket()
    with served(app, sock):
        yield address_of(sock)


@pytest.fixture(scope="session")
def live_server(settings: Settings, search_backend: object) -> Iterator[str]:
    app = create_app(settings)
    # Every browser test posts from 127.0.0.1: the per-client form limit is not under test here.
    app.state.rate_limiter = RateLimiter({"feedback": (10_000, 60.0), "sign_in": (10_000, 60.0)})

    @app.get(FAILING_PATH, include_in_schema=False)
    def deliberate_failure() -> None:
        raise RuntimeError("a deliberate failure to show the 500 page")

    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def live_server_without_search(
    settings: Settings, engine: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The portal with its search engine out of reach, to show the 503 page."""
    missing = tmp_path_factory.mktemp("down") / "no-such-folder" / "search.db"
    with serve(
        create_app(settings.model_copy(update={"search": SearchSettings(path=missing)}))
    ) as url:
        yield url


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    return live_server


WEIGHTS: dict[str, int] = {}


def bytes_on_the_wire(page: Page) -> Callable[[], int]:
    """Count from now the bytes of every request the page makes (compressed, with headers, as
    CDP's encodedDataLength); call the result for the total so far."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, int] = {}
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    return lambda: sum(sizes.values())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if WEIGHTS:
        terminalreporter.section("page weight (bytes on the wire, compressed, all requests)")
        for name, size in sorted(WEIGHTS.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{name:<28} {size:>7,} B")
