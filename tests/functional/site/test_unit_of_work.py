"""A request's work commits before its response: a failed commit is a 500 and nothing stays;
after-commit hooks run only once the work is saved."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from portal.db import after_commit, unit_of_work
from portal.search.models import SearchLog
from portal.search.services import search_log_record
from tests.conftest import SEED_TIME
from tests.page_client import check_page_contract


class CommitFailed(Exception):
    pass


@pytest.fixture
def failing_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    def commit(self: Session) -> None:
        raise CommitFailed("the database refused the commit")

    monkeypatch.setattr(Session, "commit", commit)


@pytest.mark.usefixtures("failing_commits")
def test_a_failed_commit_on_a_page_route_is_the_500_page(raw_client: TestClient) -> None:
    response = raw_client.get("/healthz")
    assert response.status_code == 500
    response = raw_client.get("/tafuta?q=pasipoti&lang=en")  # writes its search log row
    assert response.status_code == 500
    check_page_contract(response)
    assert "Sorry, there is a problem with the service" in response.text


@pytest.mark.usefixtures("failing_commits")
def test_a_failed_commit_on_an_api_route_is_a_json_500(raw_client: TestClient) -> None:
    response = raw_client.get("/api/v1/search?q=pasipoti")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_the_same_routes_answer_200_when_the_commit_succeeds(raw_client: TestClient) -> None:
    assert raw_client.get("/healthz").status_code == 200
    assert raw_client.get("/api/v1/search?q=pasipoti").status_code == 200


def _logged(db: Connection, query: str) -> int:
    with Session(db) as session:
        statement = text("SELECT count(*) FROM search_log WHERE query = :q")
        return session.execute(statement, {"q": query}).scalar_one()


def _write(session: Session, query: str) -> SearchLog:
    return search_log_record(session=session, text=query, results=0, today=SEED_TIME.date())


def test_hooks_run_once_after_the_commit(db: Connection) -> None:
    seen: list[int] = []
    with unit_of_work(db) as session:
        _write(session, "kazi ya kwanza")
        after_commit(session, lambda: seen.append(_logged(db, "kazi ya kwanza")))
        assert seen == []  # not before the commit
    assert seen == [1]  # after it, and the row was already saved when it ran


def test_hooks_never_run_when_the_work_rolls_back(db: Connection) -> None:
    seen: list[str] = []

    def failing_work() -> None:
        with unit_of_work(db) as session:
            _write(session, "kazi iliyoshindwa")
            after_commit(session, lambda: seen.append("ran"))
            raise RuntimeError("the route failed")

    with pytest.raises(RuntimeError):
        failing_work()
    assert seen == []
    assert _logged(db, "kazi iliyoshindwa") == 0


def test_hooks_never_run_when_the_commit_itself_fails(
    db: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def refuse(self: Session) -> None:
        raise RuntimeError("the database refused the commit")

    def work_whose_commit_fails() -> None:
        with unit_of_work(db) as session:
            _write(session, "kazi isiyohifadhiwa")
            after_commit(session, lambda: seen.append("ran"))
            monkeypatch.setattr(Session, "commit", refuse)

    with pytest.raises(RuntimeError, match="refused"):
        work_whose_commit_fails()
    monkeypatch.undo()
    assert seen == []
    assert _logged(db, "kazi isiyohifadhiwa") == 0


def test_a_failing_hook_is_logged_and_does_not_undo_the_commit(
    db: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise ValueError("the side effect failed")

    with unit_of_work(db) as session:
        _write(session, "kazi iliyohifadhiwa")
        after_commit(session, broken)
    assert _logged(db, "kazi iliyohifadhiwa") == 1
    assert "after-commit hook failed" in caplog.text
