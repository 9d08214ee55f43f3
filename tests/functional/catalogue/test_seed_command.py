"""`portal seed`: idempotent, and a broken seed folder changes nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from portal.catalogue.models import Category, Institution, LifeEvent, Service, Synonym
from portal.cli import main
from portal.config import PROJECT_ROOT, SearchSettings, Settings


def _snapshot(db: Connection) -> dict[str, Any]:
    with Session(db) as session:
        return {
            model.__name__: sorted(
                (row.model_dump() for row in session.exec(select(model)).all()),
                key=lambda row: str(row.get("slug", row["id"])),
            )
            for model in (Institution, Category, LifeEvent, Service, Synonym)
        }


@pytest.fixture
def run(settings: Settings, db: Connection, tmp_path: Path) -> Callable[..., int]:
    """`portal ...` inside this test's transaction, with a search index of its own."""
    own = settings.model_copy(update={"search": SearchSettings(path=tmp_path / "search.db")})
    return lambda *argv: main(list(argv), settings=own, bind=db)


def test_seeding_again_changes_nothing(
    run: Callable[..., int], db: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(db)
    assert run("seed") == 0
    assert run("seed") == 0
    assert _snapshot(db) == before
    assert "services" in capsys.readouterr().out


def test_a_broken_seed_stops_with_the_file_record_and_field_and_changes_nothing(
    run: Callable[..., int], db: Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed_data", copy)
    services = copy / "services" / "rita.yaml"
    records = yaml.safe_load(services.read_text(encoding="utf-8"))
    records[0]["summary"]["en"] = "A changed summary that must not be written"
    records[-1]["processing_time"] = "seven days"
    services.write_text(yaml.safe_dump(records, allow_unicode=True), encoding="utf-8")
    before = _snapshot(db)

    assert run("seed", "--dir", str(copy)) == 1

    error = capsys.readouterr().err
    assert "nothing was changed" in error
    assert (
        f"{services}: record {len(records)} ({records[-1]['slug']}): field processing_time:"
        in error
    )
    assert _snapshot(db) == before


def test_a_changed_record_is_updated_in_place(
    run: Callable[..., int], db: Connection, tmp_path: Path
) -> None:
    copy = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed_data", copy)
    services = copy / "services" / "rita.yaml"
    records = yaml.safe_load(services.read_text(encoding="utf-8"))
    records[0]["summary"]["en"] = "Register a birth (changed)"
    services.write_text(yaml.safe_dump(records, allow_unicode=True), encoding="utf-8")
    assert run("seed", "--dir", str(copy)) == 0
    with Session(db) as session:
        service = session.exec(select(Service).where(Service.slug == records[0]["slug"])).one()
        assert service.summary["en"] == "Register a birth (changed)"


def test_check_only_validates(run: Callable[..., int], capsys: pytest.CaptureFixture[str]) -> None:
    assert run("seed", "--check") == 0
    assert "is valid" in capsys.readouterr().out
