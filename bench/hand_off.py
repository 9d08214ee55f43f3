"""Hand-off benchmark: the time the portal adds to starting a service through GovESB.

Run from the project root with `python -m bench.hand_off` (or `make bench-hand-off`). In a
temporary folder it migrates and seeds a fresh SQLite database, serves the real portal, the
sandbox GovESB and the demo RITA system on loopback, and signs in a fixed number of citizens
directly (a session with their sealed attributes, as sign-in leaves it). For each citizen it
times the consent POST to its redirect (the whole hand-off as the citizen waits for it) and,
straight after, the same hand-off sent to the bus by a bare client (the bus and the institution
alone). The difference is what the portal adds: the session, the CSRF and form checks, the
hand-off row committed before the call, signing the request, verifying the answer, recording
the application and its receipt. The parts are also timed alone. The report goes to
`bench/reports/hand_off.md` and `hand_off.json`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx2
from sqlmodel import select

from bench.search import machine_facts, percentile
from portal.app import create_app
from portal.bus.connect import bus_client_create
from portal.bus.govesb.client import ClientConfig, GovesbClient
from portal.bus.govesb.envelope import envelope, reply_open, request_data, response
from portal.bus.models import HandOff
from portal.bus.schemas import HandOffAnswer
from portal.bus.services import application_record, hand_off_begin, hand_off_body
from portal.catalogue.models import Service
from portal.catalogue.seed import seed_load
from portal.catalogue.services import catalogue_seed
from portal.config import (
    PROJECT_ROOT,
    BusSettings,
    DatabaseSettings,
    Environment,
    SearchSettings,
    Settings,
)
from portal.db import database_migrate, engine_create, unit_of_work
from portal.identity import services as identity_services
from portal.identity.dependencies import SESSION_COOKIE
from portal.sandbox.esb import create_esb_app
from portal.sandbox.institutions.app import create_institution_app
from portal.sandbox.world import PORTAL_CLIENT, BusWorld, bus_world, credentials_load
from portal.web.ratelimit import RateLimiter
from tests.servers import address_of, free_socket, served

HAND_OFFS = 200  # one citizen each, so every hand-off opens a new application
PARTS = 500  # repetitions of each part timed alone
SERVICE = "rita-cheti-cha-kuzaliwa"  # RITA-BIRTH-REG, behind the demo RITA system
REPORTS = PROJECT_ROOT / "bench" / "reports"
ATTRIBUTES = {
    "nin": "19880314511010004217",
    "given_name": "Neema",
    "family_name": "Mwakalinga",
    "birthdate": "1988-03-14",
    "phone_number": "+255700000101",
}


def _timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _stats(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples, 0.50), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "mean_ms": round(sum(samples) / len(samples), 2),
    }


def _citizen(engine: Any, number: int) -> tuple[int, str]:
    """A signed-in citizen (their id and session cookie), with the attributes sign-in would
    have sealed."""
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(engine) as session:
        user = identity_services.user_signed_in(
            session=session,
            issuer="https://id.bench.test",
            sub=f"bench-{number}",
            name="Neema Mwakalinga",
            nin_digest=None,
            now=now,
        )
        cookie = identity_services.session_start(
            session=session,
            user=user,
            acr="urn:tz:nida:loa:substantial",
            id_token="x.y.z",  # noqa: S106 (a placeholder, not a secret)
            provider_sid=None,
            attributes=ATTRIBUTES,
            now=now,
            lifetime=dt.timedelta(hours=1),
        )
        assert user.id is not None
        return user.id, cookie


def _csrf_token(page: str) -> str:
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def _end_to_end(settings: Settings) -> dict[str, Any]:
    sockets = {name: free_socket() for name in ("portal", "esb", "rita")}
    credentials = credentials_load(None)
    world = bus_world(
        portal_url=address_of(sockets["portal"]),
        esb_url=address_of(sockets["esb"]),
        institution_urls={"rita": address_of(sockets["rita"])},
        credentials=credentials,
        environment="test",
    )
    portal_settings = settings.model_copy(
        update={
            "base_url": address_of(sockets["portal"]),
            "bus": BusSettings.model_validate(world.portal_bus_settings),
        }
    )
    engine = engine_create(settings.database.url)
    app = create_app(portal_settings)
    # One client address starts every hand-off here: lift the per-client limit.
    app.state.rate_limiter = RateLimiter({"service_start": (HAND_OFFS, 60.0)})
    portal, through_mlango, bus_alone = address_of(sockets["portal"]), [], []
    with ExitStack() as stack:
        stack.enter_context(served(create_esb_app(world.esb), sockets["esb"]))
        stack.enter_context(
            served(create_institution_app(world.institutions["rita"]), sockets["rita"])
        )
        stack.enter_context(served(app, sockets["portal"]))
        bare = GovesbClient(_client_config(world))
        for number in range(HAND_OFFS):
            with httpx2.Client(base_url=portal, follow_redirects=False, timeout=10) as http:
                http.cookies.set(SESSION_COOKIE, _citizen(engine, number)[1])
                consent = http.get(f"/huduma/{SERVICE}/anza")
                assert consent.status_code == 200, consent.text[:300]
                form = {"csrf_token": _csrf_token(consent.text), "key": secrets.token_urlsafe(32)}
                started = time.perf_counter()
                sent = http.post(f"/huduma/{SERVICE}/anza", data=form)
                through_mlango.append((time.perf_counter() - started) * 1000)
                assert sent.status_code == 303, sent.text[:300]
            body = {
                "operation": "open",
                "idempotencyKey": secrets.token_urlsafe(32),
                "service": SERVICE,
                "apiCode": "RITA-BIRTH-REG",
                "locale": "sw",
                "purpose": "Kuanza huduma",
                "citizen": {
                    "nin": ATTRIBUTES["nin"],
                    "givenName": "Neema",
                    "familyName": "Mwakalinga",
                    "birthDate": "1988-03-14",
                    "phoneNumber": "+255700000101",
                },
                "returnUrl": f"{portal}/maombi",
            }
            started = time.perf_counter()
            bare.request("RITA-BIRTH-REG", body)
            bus_alone.append((time.perf_counter() - started) * 1000)
        bare.close()
    engine.dispose()
    added = [mine - theirs for mine, theirs in zip(through_mlango, bus_alone, strict=True)]
    return {
        "through_mlango": _stats(through_mlango),
        "bus_and_institution_alone": _stats(bus_alone),
        "added_by_the_portal": _stats(added),
    }


def _client_config(world: BusWorld) -> ClientConfig:
    """The portal's credentials for a bare client: the bus and RITA, nothing of the portal."""
    client = bus_client_create(
        Settings(
            environment=Environment.test, bus=BusSettings.model_validate(world.portal_bus_settings)
        )
    )
    assert client is not None
    config = client.config
    client.close()
    return config


def _parts(settings: Settings) -> dict[str, Any]:
    """Each piece of the portal's own work, alone: sign, verify, record."""
    credentials = credentials_load(None)
    ours = credentials[PORTAL_CLIENT].private_key
    bus = credentials["esb"].private_key
    engine = engine_create(settings.database.url)
    with unit_of_work(engine) as session:
        service = session.exec(select(Service).where(Service.slug == SERVICE)).one()
    fake = HandOff(
        user_id=0,
        service_id=service.id or 0,
        idempotency_key="k" * 43,
        state="sending",
        attributes=list(ATTRIBUTES),
        locale="sw",
        created_at=dt.datetime.now(dt.UTC),
        updated_at=dt.datetime.now(dt.UTC),
    )
    body = hand_off_body(
        hand_off=fake,
        service=service,
        attributes=ATTRIBUTES,
        purpose="Kuanza huduma: usajili wa kuzaliwa",
        return_url="https://mlango.go.tz/maombi",
    )
    answer = {
        "reference": "RITA-2026-000001",
        "status": "received",
        "launchUrl": "https://erita.rita.go.tz/anza?tiketi=" + "t" * 43,
        "launchExpiresIn": 300,
        "statusPushCode": "RITA-STATUS",
    }
    reply = response(success=True, key=bus, esb_body=answer)
    sign = [
        _timed(lambda: envelope(request_data("RITA-BIRTH-REG", body), ours)) for _ in range(PARTS)
    ]
    verify = [_timed(lambda: reply_open(reply, bus.public_key())) for _ in range(PARTS)]
    record = []
    for number in range(PARTS):
        user_id, _cookie = _citizen(engine, HAND_OFFS + number)

        def write(user_id: int = user_id) -> None:
            with unit_of_work(engine) as session:
                hand_off = hand_off_begin(
                    session=session,
                    user_id=user_id,
                    service=service,
                    key=secrets.token_urlsafe(32),
                    attributes=tuple(ATTRIBUTES),
                    locale="sw",
                    now=dt.datetime.now(dt.UTC),
                )
                session.commit()
                application_record(
                    session=session,
                    hand_off=hand_off,
                    service=service,
                    answer=HandOffAnswer.model_validate(
                        {**answer, "reference": f"RITA-BENCH-{user_id}"}
                    ),
                    request_id=secrets.token_hex(16),
                    now=dt.datetime.now(dt.UTC),
                )

        record.append(_timed(write))
    engine.dispose()
    return {
        "sign_request": _stats(sign),
        "verify_answer": _stats(verify),
        "record_hand_off_application_receipt": _stats(record),
        "envelope_bytes": len(envelope(request_data("RITA-BIRTH-REG", body), ours)),
    }


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Hand-off benchmark",
        "",
        f"Run {report['when']} on {report['machine']['platform']}, Python"
        f" {report['machine']['python']}, SQLite. {HAND_OFFS} hand-offs, one citizen each;"
        f" {PARTS} repetitions of each part. Milliseconds.",
        "",
        "| measured | p50 | p95 | mean |",
        "|---|---:|---:|---:|",
    ]
    for section in ("end_to_end", "parts"):
        for name, stats in report[section].items():
            if isinstance(stats, dict):
                lines.append(
                    f"| {name.replace('_', ' ')} | {stats['p50_ms']} | {stats['p95_ms']} |"
                    f" {stats['mean_ms']} |"
                )
    lines += [
        "",
        f"A signed hand-off request is {report['parts']['envelope_bytes']} bytes.",
        "",
        "How to read it: *added by the portal* is the consent POST's time less the same hand-off"
        " sent straight to the bus, per citizen. The parts add up to less than it: the rest is"
        " the session lookup, the CSRF and form checks and the framework. Numbers move by tens"
        " of per cent on this shared machine; compare runs by ratio.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{Path(folder) / 'bench.db'}"
        settings = Settings(
            environment=Environment.test,
            log_level="warning",
            database=DatabaseSettings(url=database),
            search=SearchSettings(path=Path(folder) / "search.db"),
        )
        database_migrate(database)
        engine = engine_create(database)
        bundle = seed_load(directory=settings.seed_dir)
        with unit_of_work(engine) as session:
            catalogue_seed(session=session, bundle=bundle, now=dt.datetime.now(dt.UTC))
        engine.dispose()
        report = {
            "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine_facts(),
            "end_to_end": _end_to_end(settings),
            "parts": _parts(settings),
        }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "hand_off.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (REPORTS / "hand_off.md").write_text(_markdown(report), encoding="utf-8")
    print(_markdown(report))


if __name__ == "__main__":
    main()
