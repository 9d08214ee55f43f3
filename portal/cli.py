"""The `portal` command: run, demo, migrate, seed."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import uvicorn

from portal.config import Settings


def _seed(settings: Settings, directory: Path, check_only: bool) -> int:
    from portal.catalogue.seed import SeedError, seed_load
    from portal.catalogue.services import catalogue_seed
    from portal.db import engine_create, unit_of_work

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
    engine = engine_create(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            counts = catalogue_seed(session=session, bundle=bundle, now=dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()
    print(
        "seed: " + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
    )
    return 0


def _run(settings: Settings, host: str, port: int, workers: int) -> int:
    uvicorn.run(
        "portal.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level=settings.log_level,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal", description="Mlango operator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve the portal")
    demo = commands.add_parser("demo", help="migrate, seed, then serve (the embedded default)")
    for serving in (run, demo):
        serving.add_argument("--host", default="127.0.0.1")
        serving.add_argument("--port", type=int, default=8000)
        serving.add_argument("--workers", type=int, default=1)
    commands.add_parser("migrate", help="bring the database schema up to date")
    seed = commands.add_parser("seed", help="load seed_data into the database (idempotent)")
    seed.add_argument("--dir", type=Path, default=None, help="seed folder (default: seed_data/)")
    seed.add_argument("--check", action="store_true", help="validate only; change nothing")
    args = parser.parse_args(argv)

    try:
        settings = Settings()
    except ValueError as error:
        print(f"portal: invalid settings: {error}", file=sys.stderr)
        return 2
    if args.command in ("migrate", "demo"):
        from portal.db import database_migrate

        database_migrate(settings.database_url)
        print("migrate: database schema is up to date")
    if args.command == "seed" or args.command == "demo":
        status = _seed(
            settings,
            getattr(args, "dir", None) or settings.seed_dir,
            args.command == "seed" and args.check,
        )
        if status:
            return status
    if args.command in ("run", "demo"):
        return _run(settings, args.host, args.port, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
