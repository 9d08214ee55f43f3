"""The outbox dispatcher: claims that expire, dead letters, and rows looked up by topic and key.

Revision ID: b7e3c1d2a4f5
Revises: 33152a477f0e
Create Date: 2026-12-04 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'b7e3c1d2a4f5'
down_revision: str | None = '33152a477f0e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('dead_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_outbox_topic'))
        batch_op.create_index('ix_outbox_topic_key', ['topic', 'key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_topic_key')
        batch_op.create_index(batch_op.f('ix_outbox_topic'), ['topic'], unique=False)
        batch_op.drop_column('dead_at')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
