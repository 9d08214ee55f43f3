"""Accounts, role grants, server-side sessions, sign-in transactions and the sign-in audit.

Revision ID: 386df8789e04
Revises: 5e2a9c4d1f70
Create Date: 2026-12-04 03:30:28.038304
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '386df8789e04'
down_revision: str | None = '5e2a9c4d1f70'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('logout_token_seen',
    sa.Column('jti', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_logout_token_seen'))
    )
    with op.batch_alter_table('logout_token_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logout_token_seen_expires_at'), ['expires_at'], unique=False)

    op.create_table('role_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nin_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('institution', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('granted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('granted_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grant')),
    sa.UniqueConstraint('nin_hash', 'role', 'institution', name=op.f('uq_role_grant_nin_hash'))
    )
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_grant_nin_hash'), ['nin_hash'], unique=False)

    op.create_table('sign_in_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('sub', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_event'))
    )
    with op.batch_alter_table('sign_in_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_event_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_event_sub'), ['sub'], unique=False)

    op.create_table('sign_in_transaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('visitor_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('return_to', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_transaction')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_sign_in_transaction_state_hash'))
    )
    with op.batch_alter_table('sign_in_transaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_transaction_created_at'), ['created_at'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('sub', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('nin_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_sign_in_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('issuer', 'sub', name=op.f('uq_user_account_issuer'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_nin_hash'), ['nin_hash'], unique=False)

    op.create_table('web_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider_sid', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('acr', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('id_token', sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_web_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_session_token_hash'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_provider_sid'), ['provider_sid'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_web_session_provider_sid'))

    op.drop_table('web_session')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_nin_hash'))

    op.drop_table('user_account')
    with op.batch_alter_table('sign_in_transaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_transaction_created_at'))

    op.drop_table('sign_in_transaction')
    with op.batch_alter_table('sign_in_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_event_sub'))
        batch_op.drop_index(batch_op.f('ix_sign_in_event_kind'))
        batch_op.drop_index(batch_op.f('ix_sign_in_event_at'))

    op.drop_table('sign_in_event')
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grant_nin_hash'))

    op.drop_table('role_grant')
    with op.batch_alter_table('logout_token_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logout_token_seen_expires_at'))

    op.drop_table('logout_token_seen')
