"""The `portal` command: run, demo, migrate, seed, search rebuild|sync|zero-results, worker."""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn
from sqlalchemy.engine import Engine
from uvicorn.supervisors import Multiprocess

from portal.config import Settings
from portal.db import database_migrate, engine_create, unit_of_work
from portal.search.backend import SearchBackend, backend_create
from portal.search.errors import SearchError

WORKER_INTERVAL = 2.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sync(engine: Engine, backend: SearchBackend) -> int:
    """Apply pending catalogue changes to the search index once; 0 unless something failed."""
    from portal.search.services import index_sync

    applied = 0
    while True:
        report = index_sync(engine=engine, backend=backend, now=_now())
        applied += report.applied
        if report.error:
            print(f"search sync: {report.failed} change(s) wait for a retry: {report.error}")
            return 1
        if report.applied == 0:
            print(f"search sync: {applied} change(s) applied")
            return 0


def _seed(engine: Engine, backend: SearchBackend, directory: Path, check_only: bool) -> int:
    from portal.catalogue.seed import SeedError, seed_load
    from portal.catalogue.services import catalogue_seed

    try:
        bundle = seed_load(directory=directory)
    except SeedError as error:
        print(f"seed: {len(error.problems)} problem(s); nothing was changed:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if check_only:
        print(f"seed: {directory} is valid ({len(bundle.services)} services)")
        return 0
    with unit_of_work(engine) as session:
        counts = catalogue_seed(session=session, bundle=bundle, now=_now())
    print("seed: " + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items()))
    _sync(engine, backend)  # a search engine that is down catches up later from the outbox
    return 0


def _progress_bar(total: int) -> Callable[[int], None]:
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        filled = 30 * done // max(total, 1)
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", end="", file=sys.stderr)

    return advance


def _rebuild(engine: Engine, backend: SearchBackend) -> int:
    from portal.catalogue import selectors as catalogue_selectors
    from portal.search.services import index_rebuild

    with unit_of_work(engine) as session:
        total = len(catalogue_selectors.service_list_full(session=session))
    count = index_rebuild(engine=engine, backend=backend, progress=_progress_bar(total))
    print(f"\nsearch rebuild: {count} services indexed and swapped in")
    return 0


def _zero_results(engine: Engine, days: int) -> int:
    from portal.search.selectors import zero_result_queries

    with unit_of_work(engine) as session:
        since = dt.date.today() - dt.timedelta(days=days)
        rows = zero_result_queries(session=session, since=since, limit=50)
    for query, count in rows:
        print(f"{count:6}  {query}")
    return 0


def _worker(engine: Engine, backend: SearchBackend) -> int:
    from portal.search.services import index_sync

    print(f"worker: applying catalogue changes to search every {WORKER_INTERVAL:g} s")
    while True:
        report = index_sync(engine=engine, backend=backend, now=_now())
        if report.applied or report.failed:
            print(f"worker: {report.applied} applied, {report.failed} waiting ({report.error})")
        if not report.applied:
            time.sleep(WORKER_INTERVAL)


def _listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket for several workers to share. uvicorn makes its own with protocol 0, and
    asyncio then never sets TCP_NODELAY on accepted connections, so every response waits for a
    delayed ACK (about 40 ms here; uvicorn issue 3149). Asking for IPPROTO_TCP avoids that."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _run(settings: Settings, host: str, port: int, workers: int) -> int:
    config = uvicorn.Config(
        "portal.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level=settings.log_level,
    )
    if workers > 1:
        Multiprocess(config, sockets=[_listening_socket(host, port)]).run()
    else:
        uvicorn.Server(config).run()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="Mlango operator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve the portal")
    demo = commands.add_parser("demo", help="migrate, seed, index, then serve (embedded default)")
    for serving in (run, demo):
        serving.add_argument("--host", default="127.0.0.1")
        serving.add_argument("--port", type=int, default=8000)
        serving.add_argument("--workers", type=int, default=1)
    commands.add_parser("migrate", help="bring the database schema up to date")
    seed = commands.add_parser("seed", help="load seed_data into the database (idempotent)")
    seed.add_argument("--dir", type=Path, default=None, help="seed folder (default: seed_data/)")
    seed.add_argument("--check", action="store_true", help="validate only; change nothing")
    search = commands.add_parser("search", help="search index operations")
    search_commands = search.add_subparsers(dest="search_command", required=True)
    search_commands.add_parser("rebuild", help="rebuild the index from the database, atomically")
    search_commands.add_parser("sync", help="apply pending catalogue changes to the index once")
    zero = search_commands.add_parser("zero-results", help="queries that found nothing")
    zero.add_argument("--days", type=int, default=30)
    commands.add_parser("worker", help="keep applying catalogue changes to the index")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValueError as error:
        print(f"portal: invalid settings: {error}", file=sys.stderr)
        return 2
    if args.command == "run":
        return _run(settings, args.host, args.port, args.workers)
    engine = engine_create(settings.database_url)
    backend = backend_create(settings)
    try:
        if args.command in ("migrate", "demo"):
            database_migrate(settings.database_url)
            print("migrate: database schema is up to date")
        if args.command == "seed":
            return _seed(engine, backend, args.dir or settings.seed_dir, args.check)
        if args.command == "demo":
            status = _seed(engine, backend, settings.seed_dir, False) or _rebuild(engine, backend)
            return status or _run(settings, args.host, args.port, args.workers)
        if args.command == "search":
            if args.search_command == "rebuild":
                return _rebuild(engine, backend)
            if args.search_command == "sync":
                return _sync(engine, backend)
            return _zero_results(engine, args.days)
        if args.command == "worker":
            return _worker(engine, backend)
        return 0
    except SearchError as error:
        print(f"portal: search failed: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
