"""Levels of assurance: as the catalogue names them, and as the national-ID provider does.

A session carries the `acr` it was signed in at; a service that needs more asks the person to
sign in again at its level (step-up), and a lower level never satisfies a higher one.
"""

from __future__ import annotations

from typing import Literal

Level = Literal["low", "substantial", "high"]
LEVELS: tuple[Level, ...] = ("low", "substantial", "high")
ACR: dict[Level, str] = {level: f"urn:tz:nida:loa:{level}" for level in LEVELS}
_RANK = {acr: rank for rank, acr in enumerate(ACR.values())}


def acr_satisfies(acr: str, level: Level) -> bool:
    """Whether a sign-in at `acr` is enough for `level` (an unknown acr is enough for none)."""
    return acr in _RANK and _RANK[acr] >= _RANK[ACR[level]]
