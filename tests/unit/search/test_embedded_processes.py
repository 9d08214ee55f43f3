"""The embedded engine in a multi-process deployment: writers wait for each other, readers
never block, and no process sees a lock error."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from portal.search.embedded import EmbeddedBackend
from portal.search.schemas import IndexSettings, SearchQuery

SETTINGS = IndexSettings(
    searchable=("title_sw", "title_en"), filterable=("institution",), sortable=("popularity",)
)
ROUNDS = 25


def _worker(path: str, number: int) -> list[str]:
    """One web worker's life: writes of its own documents interleaved with searches."""
    backend = EmbeddedBackend(path)
    errors = []
    for step in range(ROUNDS):
        try:
            backend.upsert(
                "services",
                [{
                    "id": f"p{number}-{step}",
                    "title_sw": f"Huduma ya mchakato {number} hatua {step}",
                    "title_en": f"Process {number} step {step}",
                    "institution": f"taasisi-{number}",
                    "popularity": step,
                }],
            )  # fmt: skip
            backend.search("services", SearchQuery(text="huduma", facets=("institution",)))
        except Exception as error:  # report every failure, whatever it is
            errors.append(f"{type(error).__name__}: {error}")
    return errors


def test_several_processes_write_and_read_one_index(tmp_path: Path) -> None:
    path = str(tmp_path / "search.db")
    EmbeddedBackend(path).configure("services", SETTINGS)
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        results = pool.starmap(_worker, [(path, n) for n in range(4)])
    assert [errors for errors in results if errors] == []
    backend = EmbeddedBackend(path)
    assert backend.count("services") == 4 * ROUNDS
    facets = backend.search("services", SearchQuery(facets=("institution",))).facets
    assert facets["institution"] == {f"taasisi-{n}": ROUNDS for n in range(4)}
