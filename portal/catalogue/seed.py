"""Reading and validating `seed_data/`: every file is checked whole before anything is written.

Layout of a seed folder:
  institutions.yaml, categories.yaml, life_events.yaml, synonyms.yaml   (each a YAML list)
  services/*.yaml                                                       (each a YAML list)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from portal.catalogue.schemas import InstitutionIn, ServiceIn, SynonymIn, TermIn

Record = TypeVar("Record", bound=BaseModel)


class SeedError(Exception):
    """Seed data that breaks the schema; each problem names its file, record and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class SeedBundle:
    institutions: list[InstitutionIn] = field(default_factory=list)
    categories: list[TermIn] = field(default_factory=list)
    life_events: list[TermIn] = field(default_factory=list)
    services: list[ServiceIn] = field(default_factory=list)
    synonyms: list[SynonymIn] = field(default_factory=list)


def _record_label(index: int, raw: Any) -> str:
    slug = raw.get("slug") if isinstance(raw, dict) else None
    return f"record {index + 1}" + (f" ({slug})" if isinstance(slug, str) else "")


def _load_file(path: Path, shape: type[Record], problems: list[str]) -> list[Record]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        problems.append(f"{path}: cannot be read as UTF-8 YAML: {error}")
        return []
    if not isinstance(raw, list):
        problems.append(f"{path}: expected a list of records at the top level")
        return []
    records = []
    for index, item in enumerate(raw):
        try:
            records.append(shape.model_validate(item))
        except ValidationError as error:
            for detail in error.errors():
                where = ".".join(str(part) for part in detail["loc"]) or "(record)"
                problems.append(
                    f"{path}: {_record_label(index, item)}: field {where}: {detail['msg']}"
                )
    return records


def _unique(kind: str, slugs: Iterable[str], problems: list[str]) -> set[str]:
    seen: set[str] = set()
    for slug in slugs:
        if slug in seen:
            problems.append(f"{kind}: slug {slug!r} is used twice")
        seen.add(slug)
    return seen


def seed_load(*, directory: Path) -> SeedBundle:
    """Read and validate a whole seed folder; raise SeedError listing every problem found."""
    problems: list[str] = []
    if not directory.is_dir():
        raise SeedError([f"{directory}: not a folder"])
    bundle = SeedBundle(
        institutions=_load_file(directory / "institutions.yaml", InstitutionIn, problems),
        categories=_load_file(directory / "categories.yaml", TermIn, problems),
        life_events=_load_file(directory / "life_events.yaml", TermIn, problems),
        synonyms=_load_file(directory / "synonyms.yaml", SynonymIn, problems),
    )
    service_files = sorted((directory / "services").glob("*.yaml"))
    if not service_files:
        problems.append(f"{directory / 'services'}: no service files (*.yaml) found")
    service_origin: dict[str, Path] = {}
    for path in service_files:
        for service in _load_file(path, ServiceIn, problems):
            bundle.services.append(service)
            service_origin.setdefault(service.slug, path)

    institutions = _unique("institutions", (i.slug for i in bundle.institutions), problems)
    categories = _unique("categories", (c.slug for c in bundle.categories), problems)
    life_events = _unique("life events", (e.slug for e in bundle.life_events), problems)
    _unique("services", (s.slug for s in bundle.services), problems)
    for service in bundle.services:
        where = f"{service_origin[service.slug]}: service {service.slug}"
        if service.institution not in institutions:
            problems.append(
                f"{where}: field institution: unknown institution {service.institution!r}"
            )
        for slug in service.categories:
            if slug not in categories:
                problems.append(f"{where}: field categories: unknown category {slug!r}")
        for slug in service.life_events:
            if slug not in life_events:
                problems.append(f"{where}: field life_events: unknown life event {slug!r}")
    if problems:
        raise SeedError(problems)
    return bundle
