"""Reading the audit log, newest first, filtered as a curator asks."""

from __future__ import annotations

from sqlmodel import Session, col, select

from portal.audit.models import AuditEntry


def audit_entries(
    *,
    session: Session,
    entity: str | None = None,
    entity_key: str | None = None,
    institution: str | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    statement = select(AuditEntry)
    if entity:
        statement = statement.where(AuditEntry.entity == entity)
    if entity_key:
        statement = statement.where(AuditEntry.entity_key == entity_key)
    if institution:
        statement = statement.where(AuditEntry.institution == institution)
    if action:
        statement = statement.where(AuditEntry.action == action)
    statement = statement.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    return list(session.exec(statement.offset(offset).limit(limit)).all())
