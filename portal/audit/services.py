"""Writing to the audit log: one entry per change, in the same unit of work as the change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from portal.audit.models import AuditEntry


def audit_record(
    *,
    session: Session,
    actor_id: int | None,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    now: dt.datetime,
    institution: str | None = None,
    before: Any = None,
    after: Any = None,
    note: str | None = None,
) -> None:
    """Add one entry; it commits or rolls back with the change it describes. Never a NIN."""
    session.add(
        AuditEntry(
            at=now,
            actor_id=actor_id,
            actor=actor[:200],
            action=action,
            entity=entity,
            entity_key=entity_key[:120],
            institution=institution,
            before=before,
            after=after,
            note=note[:2000] if note else None,
        )
    )
