"""`portal worker` as operators run it: a process that stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portal.config import PROJECT_ROOT
from portal.db import database_migrate

START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0


def _read_until(process: subprocess.Popen[bytes], text: str, timeout: float) -> str:
    """The worker's log up to (at least) the first line containing `text`. Reads the pipe
    unbuffered, so that what `select` reports is all there is."""
    assert process.stderr is not None
    descriptor = process.stderr.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while text.encode() not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                pytest.fail(f"the worker did not log {text!r} in {timeout} s:\n{seen.decode()}")
            chunk = os.read(descriptor, 65536)
            if not chunk:
                pytest.fail(f"the worker ended before logging {text!r}:\n{seen.decode()}")
            seen += chunk
    return seen.decode()


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_exits_cleanly_when_asked_to_stop(
    tmp_path: Path, signal_number: signal.Signals
) -> None:
    database_url = f"sqlite:///{tmp_path / 'worker.db'}"
    database_migrate(database_url)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLANGO_")}
    environment |= {
        "MLANGO_ENVIRONMENT": "test",
        "MLANGO_DATABASE_URL": database_url,
        "MLANGO_SEARCH_PATH": str(tmp_path / "search.db"),
        "MLANGO_LOG_LEVEL": "info",
    }
    command = [sys.executable, "-c", "import sys; from portal.cli import main; sys.exit(main())"]
    with subprocess.Popen(
        [*command, "worker"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        bufsize=0,
    ) as process:
        try:
            _read_until(process, "outbox: dispatching", START_TIMEOUT)
            process.send_signal(signal_number)
            started = time.monotonic()
            assert process.wait(timeout=STOP_TIMEOUT) == 0
            assert time.monotonic() - started < STOP_TIMEOUT
            assert process.stderr is not None
            rest = process.stderr.read().decode()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert f"outbox: stopped ({signal_number.name})" in rest
