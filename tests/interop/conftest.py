"""The portal and an independent OpenID provider (panva's oidc-provider, run by Node from
tests/oidc_op/op.mjs), each served for real on a loopback port, registered with each other.

One provider for the whole test session. Without Node or tests/oidc_op/node_modules the tests
skip with the reason; under CI=true they fail, because CI installs both and a skip there would
hide a broken install. On any failure here the provider's log is attached to the report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from joserfc.jwk import ECKey
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from portal.app import create_app
from portal.config import PROJECT_ROOT, IdentitySettings, Settings
from portal.web.ratelimit import RateLimiter
from tests.servers import free_socket, served
from tests.sign_in_world import UNLIMITED

OP_DIR = PROJECT_ROOT / "tests" / "oidc_op"
OP_PACKAGE = OP_DIR / "node_modules" / "oidc-provider" / "package.json"
DISCOVERY = "/.well-known/openid-configuration"
START_SECONDS = 15.0
LOG_KEY = pytest.StashKey[Path]()


@dataclass(frozen=True)
class Interop:
    portal: str
    issuer: str
    engine: Engine
    log: Path


def _require(found: bool, message: str) -> None:
    if found:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _log_text(log: Path) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-20_000:]
    except OSError:
        return "(no log)"


def _wait_for_discovery(process: subprocess.Popen[bytes], issuer: str, log: Path) -> None:
    """Poll the provider's discovery document until it answers 200, for up to 15 s."""
    deadline = time.monotonic() + START_SECONDS
    with httpx2.Client(timeout=1, trust_env=False) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the provider exited ({process.returncode}):\n{_log_text(log)}")
            try:
                if http.get(issuer + DISCOVERY).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.05)
    pytest.fail(f"the provider did not answer within {START_SECONDS:.0f} s:\n{_log_text(log)}")


@pytest.fixture(scope="session")
def node() -> str:
    """Node, with oidc-provider installed for it; checked before anything else is set up."""
    found = shutil.which("node")
    _require(found is not None, "node not found on PATH; the interop tests run oidc-provider")
    _require(
        OP_PACKAGE.exists(),
        f"oidc-provider not installed in {OP_DIR.relative_to(PROJECT_ROOT)}/node_modules; "
        "`make install-test` installs it",
    )
    assert found is not None
    return found


@pytest.fixture(scope="session")
def interop(
    node: str,
    settings: Settings,
    engine: Engine,
    search_backend: object,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Iterator[Interop]:
    """The portal, signing in with a key of its own at the independent provider."""
    log = tmp_path_factory.mktemp("oidc_op") / "op.log"
    pytestconfig.stash[LOG_KEY] = log

    portal_sock = free_socket()
    portal = f"http://127.0.0.1:{portal_sock.getsockname()[1]}"
    op_sock = free_socket()
    op_port = op_sock.getsockname()[1]
    op_sock.close()  # the provider binds it again at once
    issuer = f"http://127.0.0.1:{op_port}"

    key = ECKey.generate_key("P-256", parameters={"kid": "mlango-interop-1"}, private=True)
    app = create_app(
        settings.model_copy(
            update={
                "base_url": portal,
                "identity": IdentitySettings(
                    discovery_url=issuer + DISCOVERY,
                    client_key=SecretStr(json.dumps(key.as_dict(private=True))),
                ),
            }
        )
    )
    app.state.rate_limiter = RateLimiter(UNLIMITED)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "OP_PORT": str(op_port),
        "OP_ISSUER": issuer,
        "RP_CLIENT_ID": "mlango",
        "RP_REDIRECT_URI": f"{portal}/ingia/mwisho",
        "RP_POST_LOGOUT_REDIRECT_URI": f"{portal}/toka/mwisho",
        "RP_BACKCHANNEL_LOGOUT_URI": f"{portal}/ingia/backchannel",
        "RP_JWKS_URI": f"{portal}/.well-known/jwks.json",
        "OP_ALLOW_LOOPBACK_FETCH": "1",  # the portal listens on loopback
    }
    with served(app, portal_sock), log.open("wb") as output:
        process = subprocess.Popen(
            [node, "op.mjs"],
            cwd=OP_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_discovery(process, issuer, log)
            yield Interop(portal=portal, issuer=issuer, engine=engine, log=log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the provider's log to every failure in this folder."""
    report = yield
    log = item.config.stash.get(LOG_KEY, None)
    if report.failed and log is not None:
        report.sections.append(("oidc-provider log", _log_text(log)))
    return report
