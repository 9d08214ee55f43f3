"""`portal seed`: idempotent, and a broken seed folder changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from portal.catalogue.models import Category, Institution, LifeEvent, Service, Synonym
from portal.cli import main
from portal.config import PROJECT_ROOT, Settings


def _snapshot(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        return {
            model.__name__: sorted(
                (row.model_dump() for row in session.exec(select(model)).all()),
                key=lambda row: str(row.get("slug", row["id"])),
            )
            for model in (Institution, Category, LifeEvent, Service, Synonym)
        }


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("MLANGO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MLANGO_SEARCH_PATH", str(settings.search_path))


@pytest.mark.usefixtures("operator_env")
def test_seeding_again_changes_nothing(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(engine)
    assert main(["seed"]) == 0
    assert main(["seed"]) == 0
    assert _snapshot(engine) == before
    assert "services" in capsys.readouterr().out


@pytest.mark.usefixtures("operator_env")
def test_a_broken_seed_stops_with_the_file_record_and_field_and_changes_nothing(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed_data", copy)
    services = copy / "services" / "rita.yaml"
    records = yaml.safe_load(services.read_text(encoding="utf-8"))
    records[0]["summary"]["en"] = "A changed summary that must not be written"
    records[-1]["processing_time"] = "seven days"
    services.write_text(yaml.safe_dump(records, allow_unicode=True), encoding="utf-8")
    before = _snapshot(engine)

    assert main(["seed", "--dir", str(copy)]) == 1

    error = capsys.readouterr().err
    assert "nothing was changed" in error
    assert (
        f"{services}: record {len(records)} ({records[-1]['slug']}): field processing_time:"
        in error
    )
    assert _snapshot(engine) == before


@pytest.mark.usefixtures("operator_env")
def test_a_changed_record_is_updated_in_place(engine: Engine, tmp_path: Path) -> None:
    copy = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed_data", copy)
    services = copy / "services" / "rita.yaml"
    records = yaml.safe_load(services.read_text(encoding="utf-8"))
    records[0]["summary"]["en"] = "Register a birth (changed)"
    services.write_text(yaml.safe_dump(records, allow_unicode=True), encoding="utf-8")
    try:
        assert main(["seed", "--dir", str(copy)]) == 0
        with Session(engine) as session:
            service = session.exec(select(Service).where(Service.slug == records[0]["slug"])).one()
            assert service.summary["en"] == "Register a birth (changed)"
    finally:
        assert main(["seed"]) == 0


@pytest.mark.usefixtures("operator_env")
def test_check_only_validates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--check"]) == 0
    assert "is valid" in capsys.readouterr().out
