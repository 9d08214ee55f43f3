"""The `portal` command: run, demo, migrate, seed, search rebuild|sync|zero-results, outbox
list|retry, worker, admin grant, sandbox idp."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.supervisors import Multiprocess

from portal.config import PROJECT_ROOT, Settings
from portal.db import Bind, database_migrate, engine_create, unit_of_work
from portal.search.backend import SearchBackend, backend_create
from portal.search.errors import SearchError

if TYPE_CHECKING:
    from portal.outbox.dispatcher import Handler
    from portal.outbox.models import OutboxEntry
    from portal.sandbox.idp import IdpConfig

WORKER_INTERVAL = 2.0  # seconds the worker sleeps when nothing is due
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
logger = logging.getLogger("portal.worker")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _handlers(backend: SearchBackend, settings: Settings) -> dict[str, Handler]:
    """Every outbox topic this installation dispatches, with its handler."""
    from portal.bus import services as bus_services
    from portal.bus.connect import bus_client_create
    from portal.outbox.dispatcher import handlers_combine
    from portal.search import services as search_services

    groups = [search_services.outbox_handlers(backend=backend)]
    bus = bus_client_create(settings)
    if bus is not None:
        groups.append(bus_services.outbox_handlers(client=bus))
    return handlers_combine(*groups)


def _sync(bind: Bind, backend: SearchBackend) -> int:
    """Apply the due search rows of the outbox once; 1 if some wait for a retry or are dead."""
    from portal.search.services import index_sync

    report = index_sync(bind=bind, backend=backend, now=_now())
    print(f"search sync: {report.applied} change(s) applied")
    if report.waiting or report.dead:
        print(
            f"search sync: {report.waiting} change(s) wait for a retry, {report.dead} dead"
            " (see `portal outbox list`)"
        )
        return 1
    return 0


def _seed(bind: Bind, backend: SearchBackend, directory: Path, check_only: bool) -> int:
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
    with unit_of_work(bind) as session:
        counts = catalogue_seed(session=session, bundle=bundle, now=_now())
    print("seed: " + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items()))
    _sync(bind, backend)  # a search engine that is down catches up later from the outbox
    return 0


def _progress_bar(total: int) -> Callable[[int], None]:
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        filled = 30 * done // max(total, 1)
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", end="", file=sys.stderr)

    return advance


def _rebuild(bind: Bind, backend: SearchBackend) -> int:
    from portal.catalogue import selectors as catalogue_selectors
    from portal.search.services import index_rebuild

    with unit_of_work(bind) as session:
        total = len(catalogue_selectors.service_list_full(session=session))
    count = index_rebuild(bind=bind, backend=backend, progress=_progress_bar(total))
    print(f"\nsearch rebuild: {count} services indexed and swapped in")
    return 0


def _zero_results(engine: Bind, days: int) -> int:
    from portal.search.selectors import zero_result_queries

    with unit_of_work(engine) as session:
        since = dt.date.today() - dt.timedelta(days=days)
        rows = zero_result_queries(session=session, since=since, limit=50)
    for query, count in rows:
        print(f"{count:6}  {query}")
    return 0


def _when(moment: dt.datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"


def _outbox_row(entry: OutboxEntry, *, dead: bool) -> str:
    when = _when(entry.dead_at if dead else entry.available_at)
    error = " ".join((entry.last_error or "").split())
    error = error if len(error) <= 100 else error[:99] + "…"
    line = f"{entry.id:>8}  {entry.topic:<20} {entry.key:<40} {entry.attempts:>8}  {when:<19}"
    return f"{line}  {error}".rstrip()


def _outbox_list(bind: Bind, dead: bool, limit: int) -> int:
    from portal.outbox import selectors as outbox_selectors

    with unit_of_work(bind) as session:
        rows, total = outbox_selectors.outbox_list(session=session, dead=dead, limit=limit)
    state = "dead" if dead else "pending"
    if not rows:
        print(f"outbox: no {state} rows")
        return 0
    when = "dead since" if dead else "next attempt"
    print(f"{'id':>8}  {'topic':<20} {'key':<40} {'attempts':>8}  {when:<19}  last error")
    for entry in rows:
        print(_outbox_row(entry, dead=dead))
    shown = f" (the first {len(rows)} shown)" if total > len(rows) else ""
    print(f"outbox: {total} {state} row(s){shown}")
    return 0


def _outbox_retry(bind: Bind, ids: list[int], all_dead: bool) -> int:
    from portal.outbox import selectors as outbox_selectors
    from portal.outbox import services as outbox_services

    if bool(ids) == all_dead:
        print("outbox retry: give row ids or --all-dead", file=sys.stderr)
        return 2
    with unit_of_work(bind) as session:
        if all_dead:
            count = outbox_services.outbox_retry_dead(session=session, now=_now())
            print(f"outbox retry: {count} dead row(s) pending again, due now")
            return 0
        missing = outbox_selectors.outbox_missing(session=session, ids=ids)
        if missing:
            listed = ", ".join(str(entry_id) for entry_id in missing)
            print(f"outbox retry: no row {listed}; nothing was changed", file=sys.stderr)
            return 1
        retried = outbox_services.outbox_retry(session=session, ids=ids, now=_now())
    print(f"outbox retry: {len(retried)} row(s) due now")
    return 0


def _worker(bind: Bind, backend: SearchBackend, settings: Settings) -> int:
    """Dispatch the outbox until SIGTERM or SIGINT; the row in hand is finished first."""
    from portal.outbox.dispatcher import Stop, dispatcher_run

    stop = Stop()

    def request_stop(number: int, _frame: FrameType | None) -> None:
        stop.set(signal.Signals(number).name)  # only a flag: logging here could deadlock

    previous = {number: signal.signal(number, request_stop) for number in STOP_SIGNALS}
    try:
        logger.info("worker: started; stop with SIGTERM or SIGINT")
        dispatcher_run(
            bind=bind,
            handlers=_handlers(backend, settings),
            stop=stop,
            idle_seconds=WORKER_INTERVAL,
        )
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return 0


def _logging_setup(level: str) -> None:
    """Operator commands log to stderr; a handler already there (a test run's) is kept."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


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


def _admin_grant(bind: Bind, settings: Settings, role: str, institution: str) -> int:
    """Give a role to a NIN, read from the terminal (or standard input) so that it stays out of
    the shell history and the process list; only its keyed hash is written."""
    from portal.identity import services as identity_services
    from portal.identity.nin import nin_normalise

    typed = getpass.getpass("NIN: ") if sys.stdin.isatty() else sys.stdin.readline()
    try:
        nin = nin_normalise(typed)
    except ValueError:
        print(
            "admin grant: a NIN has 20 digits (dashes and spaces may be left in)", file=sys.stderr
        )
        return 2
    key = settings.identity.nin_key.get_secret_value()
    try:
        with unit_of_work(bind) as session:
            added = identity_services.role_grant(
                session=session,
                nin_digest=identity_services.nin_hash(nin=nin, key=key),
                role=role,
                institution=institution,
                by="portal admin grant",
                now=_now(),
            )
    except ValueError as error:
        print(f"admin grant: {error}", file=sys.stderr)
        return 2
    where = f" of {institution}" if institution else ""
    print(f"admin grant: {role}{where} {'given' if added else 'was already held'}")
    return 0


SANDBOX_IDP_PORT = 8001
SANDBOX_ESB_PORT = 8002  # the demo institutions take 8003 (RITA), 8004 (TRA), 8005 (BRELA)
DEV_FOLDER = PROJECT_ROOT / ".dev"  # made by `portal demo`, ignored by git


def _sandbox_idp_config(settings: Settings, port: int) -> IdpConfig:
    """The sandbox provider with Mlango registered as its client, under a key pair made once
    for this checkout and kept in .dev/ (the portal reads the private half from there)."""
    from joserfc.jwk import ECKey

    from portal.sandbox.idp import ClientRegistration, IdpConfig

    key_file = DEV_FOLDER / "mlango-client-key.json"
    if not key_file.exists():
        DEV_FOLDER.mkdir(exist_ok=True)
        key = ECKey.generate_key("P-256", parameters={"kid": "mlango-dev-1"}, private=True)
        key_file.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
        key_file.chmod(0o600)
    private = json.loads(key_file.read_text(encoding="utf-8"))
    public = {name: value for name, value in private.items() if name != "d"}
    base = settings.base_url.rstrip("/")
    return IdpConfig(
        issuer=f"http://127.0.0.1:{port}",
        environment=settings.environment.value,
        clients=(
            ClientRegistration(
                client_id=settings.identity.client_id,
                name="Mlango",
                redirect_uris=(f"{base}/ingia/mwisho",),
                post_logout_redirect_uris=(f"{base}/toka/mwisho",),
                backchannel_logout_uri=f"{base}/ingia/backchannel",
                jwks={"keys": [{**public, "use": "sig", "alg": "ES256"}]},
            ),
        ),
    )


def _sandbox_idp_start(settings: Settings, port: int) -> None:
    """Serve the sandbox provider in a background thread, and point sign-in at it (through
    the environment, which the portal's workers read) unless a provider is configured."""
    import threading

    from portal.sandbox.idp import idp_serve

    config = _sandbox_idp_config(settings, port)
    thread = threading.Thread(
        target=idp_serve, args=(config, "127.0.0.1", port), kwargs={"log_level": "warning"}
    )
    thread.daemon = True
    thread.start()
    if not settings.identity.discovery_url:
        os.environ["MLANGO_IDENTITY_DISCOVERY_URL"] = (
            f"{config.issuer}/.well-known/openid-configuration"
        )
        os.environ["MLANGO_IDENTITY_CLIENT_KEY_FILE"] = str(DEV_FOLDER / "mlango-client-key.json")


def _sandbox_bus_start(settings: Settings, esb_port: int) -> None:
    """Serve the sandbox GovESB and the demo institutions in background threads, with keys
    made once for this checkout in .dev/, and point the portal at them (through the
    environment, which its workers read) unless a bus is configured."""
    import threading

    from portal.sandbox.esb import esb_serve
    from portal.sandbox.institutions.app import institution_serve
    from portal.sandbox.world import bus_world, credentials_load

    world = bus_world(
        portal_url=settings.base_url,
        esb_url=f"http://127.0.0.1:{esb_port}",
        credentials=credentials_load(DEV_FOLDER),
        environment=settings.environment.value,
    )
    quiet = {"log_level": "warning"}
    threads = [
        threading.Thread(target=esb_serve, args=(world.esb, "127.0.0.1", esb_port), kwargs=quiet)
    ]
    threads += [
        threading.Thread(target=institution_serve, args=(config,), kwargs=quiet)
        for config in world.institutions.values()  # each on the port its base URL names
    ]
    for thread in threads:
        thread.daemon = True
        thread.start()
    if not settings.bus.url:
        for name, value in world.portal_bus_settings.items():
            os.environ[f"MLANGO_BUS_{name.upper()}"] = value


def _demo_roles(bind: Bind, settings: Settings) -> None:
    """The demo citizens who publish and curate (see portal/sandbox/world.py)."""
    from portal.sandbox.world import demo_roles_grant

    with unit_of_work(bind) as session:
        added = demo_roles_grant(
            session=session, nin_key=settings.identity.nin_key.get_secret_value(), now=_now()
        )
    print(f"demo: {added} demo role(s) given (publisher: Baraka; curator: Rehema)")


def _demo_worker_start(bind: Bind, backend: SearchBackend) -> None:
    """What `portal worker` does, in a background thread beside the demo, with the settings
    the sandboxes have just put in the environment."""
    import threading

    from portal.outbox.dispatcher import Stop, dispatcher_run

    handlers = _handlers(backend, Settings())
    thread = threading.Thread(
        target=dispatcher_run,
        kwargs={
            "bind": bind,
            "handlers": handlers,
            "stop": Stop(),
            "idle_seconds": WORKER_INTERVAL,
        },
    )
    thread.daemon = True
    thread.start()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="Mlango operator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve the portal")
    demo = commands.add_parser("demo", help="migrate, seed, index, then serve (embedded default)")
    for serving in (run, demo):
        serving.add_argument("--host", default="127.0.0.1")
        serving.add_argument("--port", type=int, default=8000)
        serving.add_argument("--workers", type=int, default=1)
    sandbox = commands.add_parser("sandbox", help="dev-only stand-ins for the outside world")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    idp = sandbox_commands.add_parser("idp", help="the sandbox national-ID OpenID provider")
    idp.add_argument("--port", type=int, default=SANDBOX_IDP_PORT)
    commands.add_parser("migrate", help="bring the database schema up to date")
    seed = commands.add_parser("seed", help="load seed_data into the database (idempotent)")
    seed.add_argument("--dir", type=Path, default=None, help="seed folder (default: seed_data/)")
    seed.add_argument("--check", action="store_true", help="validate only; change nothing")
    search = commands.add_parser("search", help="search index operations")
    search_commands = search.add_subparsers(dest="search_command", required=True)
    search_commands.add_parser("rebuild", help="rebuild the index from the database, atomically")
    search_commands.add_parser("sync", help="apply the due search changes of the outbox once")
    zero = search_commands.add_parser("zero-results", help="queries that found nothing")
    zero.add_argument("--days", type=int, default=30)
    outbox = commands.add_parser("outbox", help="changes waiting for other systems")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True)
    listing = outbox_commands.add_parser("list", help="pending rows, or dead ones with --dead")
    listing.add_argument("--dead", action="store_true", help="dead letters instead")
    listing.add_argument("--limit", type=int, default=100, help="rows shown (default 100)")
    retry = outbox_commands.add_parser("retry", help="rows due now; dead ones pending again")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID", help="row ids")
    retry.add_argument("--all-dead", action="store_true", help="every dead row")
    commands.add_parser("worker", help="dispatch the outbox until stopped (SIGTERM, SIGINT)")
    admin = commands.add_parser("admin", help="people and their roles")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    grant = admin_commands.add_parser(
        "grant", help="give a role to the person with a NIN (asked for, never an argument)"
    )
    grant.add_argument("role", help="publisher, curator or administrator")
    grant.add_argument("--institution", default="", help="for a publisher: the institution slug")
    return parser


def main(
    argv: list[str] | None = None, *, settings: Settings | None = None, bind: Bind | None = None
) -> int:
    """The `portal` command. Tests pass `settings` instead of editing the environment, and may
    pass `bind` (a connection in their transaction) instead of letting it open the database."""
    args = _parser().parse_args(argv)
    if settings is None:
        try:
            settings = Settings()
        except ValueError as error:
            print(f"portal: invalid settings: {error}", file=sys.stderr)
            return 2
    if args.command == "run":
        return _run(settings, args.host, args.port, args.workers)
    if args.command == "sandbox":
        from portal.sandbox.idp import idp_serve

        idp_serve(_sandbox_idp_config(settings, args.port), "127.0.0.1", args.port)
        return 0
    _logging_setup(settings.log_level)
    engine = None
    if bind is None:
        bind = engine = engine_create(settings.database.url)
    backend = backend_create(settings)
    try:
        if args.command in ("migrate", "demo"):
            database_migrate(settings.database.url)
            print("migrate: database schema is up to date")
        if args.command == "seed":
            return _seed(bind, backend, args.dir or settings.seed_dir, args.check)
        if args.command == "demo":
            status = _seed(bind, backend, settings.seed_dir, False) or _rebuild(bind, backend)
            if status:
                return status
            _demo_roles(bind, settings)
            _sandbox_idp_start(settings, SANDBOX_IDP_PORT)
            _sandbox_bus_start(settings, SANDBOX_ESB_PORT)
            _demo_worker_start(bind, backend)
            return _run(settings, args.host, args.port, args.workers)
        if args.command == "search":
            if args.search_command == "rebuild":
                return _rebuild(bind, backend)
            if args.search_command == "sync":
                return _sync(bind, backend)
            return _zero_results(bind, args.days)
        if args.command == "outbox":
            if args.outbox_command == "list":
                return _outbox_list(bind, args.dead, args.limit)
            return _outbox_retry(bind, args.ids, args.all_dead)
        if args.command == "worker":
            return _worker(bind, backend, settings)
        if args.command == "admin":
            return _admin_grant(bind, settings, args.role, args.institution)
        return 0
    except SearchError as error:
        print(f"portal: search failed: {error}", file=sys.stderr)
        return 1
    finally:
        if engine is not None:
            engine.dispose()
