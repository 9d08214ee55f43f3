"""Status pushes arriving from GovESB: verified, applied once, answered signed; everything
else refused with the protocol's failure response and nothing changed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from portal.bus.govesb.envelope import delivery_data, envelope, reply_open
from portal.bus.govesb.keys import PrivateKey, private_key_generate
from portal.bus.models import Application, ApplicationEvent, BusDeliverySeen
from portal.sandbox.world import PORTAL_CLIENT, Credentials
from tests.functional.bus.conftest import application_opened, person

DELIVERY = "/govesb/taarifa"
JSON = {"Content-Type": "application/json"}


def _push(reference: str, *, sequence: Any = 2, status: str = "in_review", **extra: Any) -> dict:
    return {
        "reference": reference,
        "eventId": uuid.uuid4().hex,
        "sequence": sequence,
        "status": status,
        "message": {"sw": "Ombi lako linakaguliwa.", "en": "Your application is in review."},
        "at": "2026-12-04T12:30:00Z",
        **extra,
    }


def _delivery(body: Any, key: PrivateKey, *, request_id: str | None = None) -> bytes:
    data = delivery_data(
        request_id=request_id or uuid.uuid1().hex, code="RITA-STATUS", esb_body=body
    )
    return envelope(data, key)


def _answer(
    response: Any, credentials: Mapping[str, Credentials], status: int, message: str | None
) -> None:
    assert response.status_code == status, response.text
    reply = reply_open(response.content, credentials[PORTAL_CLIENT].private_key.public_key())
    assert reply.success is (message is None)
    assert reply.message == message


@pytest.fixture
def bus_key(credentials: Mapping[str, Credentials]) -> PrivateKey:
    return credentials["esb"].private_key


def _application(db: Connection, reference: str) -> Application:
    with Session(db) as session:
        return session.exec(select(Application).where(Application.reference == reference)).one()


def _events(db: Connection, application: Application) -> list[ApplicationEvent]:
    with Session(db) as session:
        return list(
            session.exec(
                select(ApplicationEvent).where(ApplicationEvent.application_id == application.id)
            ).all()
        )


def test_a_status_push_is_applied_and_answered_signed(
    bus_client: TestClient,
    db: Connection,
    credentials: Mapping[str, Credentials],
    bus_key: PrivateKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    opened = application_opened(db, user_id=person(db), reference="RITA-T-1")
    caplog.set_level(logging.DEBUG)
    response = bus_client.post(
        DELIVERY, content=_delivery(_push("RITA-T-1"), bus_key), headers=JSON
    )
    _answer(response, credentials, 200, None)
    application = _application(db, "RITA-T-1")
    assert (application.status, application.sequence) == ("in_review", 2)
    assert application.status_message == {
        "sw": "Ombi lako linakaguliwa.",
        "en": "Your application is in review.",
    }
    assert [event.status for event in _events(db, opened)] == ["in_review"]
    assert "linakaguliwa" not in caplog.text  # bodies are never logged


def test_a_replayed_delivery_is_refused_and_changes_nothing(
    bus_client: TestClient,
    db: Connection,
    credentials: Mapping[str, Credentials],
    bus_key: PrivateKey,
) -> None:
    opened = application_opened(db, user_id=person(db), reference="RITA-T-2")
    delivered = _delivery(_push("RITA-T-2"), bus_key)
    _answer(bus_client.post(DELIVERY, content=delivered, headers=JSON), credentials, 200, None)
    later = _delivery(_push("RITA-T-2", sequence=3, status="approved"), bus_key)
    _answer(bus_client.post(DELIVERY, content=later, headers=JSON), credentials, 200, None)
    replay = bus_client.post(DELIVERY, content=delivered, headers=JSON)
    _answer(replay, credentials, 400, "replayed")
    assert _application(db, "RITA-T-2").status == "approved"
    assert len(_events(db, opened)) == 2


def test_the_same_change_sent_again_is_acknowledged_once(
    bus_client: TestClient,
    db: Connection,
    credentials: Mapping[str, Credentials],
    bus_key: PrivateKey,
) -> None:
    opened = application_opened(db, user_id=person(db), reference="RITA-T-3")
    change = _push("RITA-T-3")
    for _ in range(2):  # the institution lost our answer and pushed again: a new request id
        response = bus_client.post(DELIVERY, content=_delivery(change, bus_key), headers=JSON)
        _answer(response, credentials, 200, None)
    assert len(_events(db, opened)) == 1


def test_a_change_arriving_late_is_history_only(
    bus_client: TestClient,
    db: Connection,
    credentials: Mapping[str, Credentials],
    bus_key: PrivateKey,
) -> None:
    opened = application_opened(db, user_id=person(db), reference="RITA-T-4")
    for sequence, status in ((3, "approved"), (2, "in_review")):
        body = _delivery(_push("RITA-T-4", sequence=sequence, status=status), bus_key)
        _answer(bus_client.post(DELIVERY, content=body, headers=JSON), credentials, 200, None)
    assert _application(db, "RITA-T-4").status == "approved"
    assert sorted(event.status for event in _events(db, opened)) == ["approved", "in_review"]


def test_a_push_for_an_unknown_application_changes_nothing(
    bus_client: TestClient,
    db: Connection,
    credentials: Mapping[str, Credentials],
    bus_key: PrivateKey,
) -> None:
    request_id = uuid.uuid1().hex
    body = _delivery(_push("RITA-NOBODY"), bus_key, request_id=request_id)
    _answer(
        bus_client.post(DELIVERY, content=body, headers=JSON), credentials, 400, "unknown_reference"
    )
    with Session(db) as session:
        assert session.get(BusDeliverySeen, request_id) is None


@pytest.mark.parametrize(
    "body",
    [
        _push("RITA-T-5", sequence="2"),  # a number as text
        _push("RITA-T-5", status="lost"),  # a status nobody knows
        _push("RITA-T-5", at="yesterday"),
        _push("RITA-T-5", at="2026-12-04T12:30:00"),  # no offset
        {**_push("RITA-T-5"), "reference": "RITA-T-5<script>"},
        _push("RITA-T-5", eventId="x"),
        _push("RITA-T-5", message={"sw": "x" * 501}),
        ["not", "an", "object"],
    ],
)
def test_a_push_that_does_not_fit_is_refused_whole(
    bus_client: TestClient,
    db: Connection,
    credentials: Mapping[str, Credentials],
    bus_key: PrivateKey,
    body: Any,
) -> None:
    application_opened(db, user_id=person(db), reference="RITA-T-5")
    response = bus_client.post(DELIVERY, content=_delivery(body, bus_key), headers=JSON)
    _answer(response, credentials, 400, "invalid")
    assert _application(db, "RITA-T-5").status == "received"


def test_deliveries_not_signed_by_the_bus_are_refused(
    bus_client: TestClient,
    db: Connection,
    credentials: Mapping[str, Credentials],
    bus_key: PrivateKey,
) -> None:
    application_opened(db, user_id=person(db), reference="RITA-T-6")
    forged = _delivery(_push("RITA-T-6"), private_key_generate())
    _answer(
        bus_client.post(DELIVERY, content=forged, headers=JSON), credentials, 401, "bad_signature"
    )
    genuine = _delivery(_push("RITA-T-6"), bus_key)
    tampered = genuine.replace(b'"in_review"', b'"approved"')
    _answer(
        bus_client.post(DELIVERY, content=tampered, headers=JSON), credentials, 401, "bad_signature"
    )
    unsigned = genuine[: genuine.index(b',"signature"')] + b"}"
    response = bus_client.post(DELIVERY, content=unsigned, headers=JSON)
    assert response.status_code in (400, 401)
    for malformed in (b"", b"{", b'{"data": 1, "signature": "x"}', "ombi".encode("utf-16")):
        response = bus_client.post(DELIVERY, content=malformed, headers=JSON)
        assert response.status_code in (400, 401), malformed
    assert _application(db, "RITA-T-6").status == "received"


def test_an_oversized_delivery_is_refused_unread(
    bus_client: TestClient, credentials: Mapping[str, Credentials]
) -> None:
    response = bus_client.post(DELIVERY, content=b"{" + b" " * (1024 * 1024 + 1), headers=JSON)
    _answer(response, credentials, 413, "too_large")


def test_without_a_bus_deliveries_are_not_taken(client: TestClient) -> None:
    assert client.post(DELIVERY, content=b"{}", headers=JSON).status_code == 503
