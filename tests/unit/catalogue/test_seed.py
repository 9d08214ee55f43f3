"""Seed files: the shipped data meets the catalogue's promises; broken files are named exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from portal.catalogue.schemas import Status
from portal.catalogue.seed import SeedError, seed_load
from portal.config import PROJECT_ROOT

SEED = PROJECT_ROOT / "seed_data"


@pytest.fixture(scope="module")
def bundle():  # type: ignore[no-untyped-def]
    return seed_load(directory=SEED)


def test_the_shipped_catalogue_is_large_enough(bundle) -> None:  # type: ignore[no-untyped-def]
    assert len(bundle.institutions) >= 25
    assert len(bundle.services) >= 150
    assert len(bundle.life_events) >= 10
    assert len(bundle.categories) >= 10
    assert len(bundle.synonyms) >= 60


def test_every_service_can_be_reached_online(bundle) -> None:  # type: ignore[no-untyped-def]
    for service in bundle.services:
        channels = service.channels
        assert channels.online_url or channels.ussd or channels.sms or channels.app, service.slug


def test_every_institution_offers_a_service(bundle) -> None:  # type: ignore[no-untyped-def]
    offering = {service.institution for service in bundle.services}
    assert offering == {institution.slug for institution in bundle.institutions}


def test_every_life_event_and_category_holds_services(bundle) -> None:  # type: ignore[no-untyped-def]
    used_events = {slug for s in bundle.services for slug in s.life_events}
    used_categories = {slug for s in bundle.services for slug in s.categories}
    assert used_events == {event.slug for event in bundle.life_events}
    assert used_categories == {category.slug for category in bundle.categories}


def test_synonyms_cover_swahili_plurals(bundle) -> None:  # type: ignore[no-untyped-def]
    groups = [set(entry.terms) for entry in bundle.synonyms]
    for pair in ({"cheti", "vyeti"}, {"kibali", "vibali"}):
        assert any(pair <= group for group in groups), pair


def test_inactive_services_explain_why(bundle) -> None:  # type: ignore[no-untyped-def]
    for service in bundle.services:
        if service.status is not Status.active:
            assert service.alert is not None


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy)
    return copy


def _edit_first_service(seed_copy: Path, change) -> Path:  # type: ignore[no-untyped-def]
    path = seed_copy / "services" / "rita.yaml"
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(records[0])
    path.write_text(yaml.safe_dump(records, allow_unicode=True), encoding="utf-8")
    return path


def test_a_broken_field_is_named_with_its_file_and_record(seed_copy: Path) -> None:
    path = _edit_first_service(seed_copy, lambda r: r["cost"]["items"][0].update(amount_tzs=-5))
    with pytest.raises(SeedError) as raised:
        seed_load(directory=seed_copy)
    (problem,) = raised.value.problems
    assert problem.startswith(
        f"{path}: record 1 (rita-cheti-cha-kuzaliwa): field cost.items.0.amount_tzs:"
    )


def test_unknown_fields_are_refused_not_dropped(seed_copy: Path) -> None:
    _edit_first_service(seed_copy, lambda r: r.update(fee=100))
    with pytest.raises(SeedError, match="field fee: Extra inputs are not permitted"):
        seed_load(directory=seed_copy)


def test_references_to_unknown_slugs_are_named(seed_copy: Path) -> None:
    _edit_first_service(seed_copy, lambda r: r.update(life_events=["kuhamia-mwezini"]))
    with pytest.raises(SeedError, match="field life_events: unknown life event 'kuhamia-mwezini'"):
        seed_load(directory=seed_copy)


def test_a_duplicate_slug_is_refused(seed_copy: Path) -> None:
    path = seed_copy / "services" / "rita.yaml"
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump([*records, records[0]], allow_unicode=True), encoding="utf-8")
    with pytest.raises(SeedError, match="slug 'rita-cheti-cha-kuzaliwa' is used twice"):
        seed_load(directory=seed_copy)


def test_a_file_that_is_not_yaml_is_named(seed_copy: Path) -> None:
    path = seed_copy / "categories.yaml"
    path.write_bytes(b"- slug: [unclosed\n")
    with pytest.raises(SeedError, match=r"categories\.yaml: cannot be read as UTF-8 YAML"):
        seed_load(directory=seed_copy)
