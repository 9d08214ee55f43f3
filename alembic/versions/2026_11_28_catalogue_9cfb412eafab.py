"""The published catalogue: institutions, categories, life events, services, synonyms.

Revision ID: 9cfb412eafab
Revises: 
Create Date: 2026-11-28 20:26:22.085913
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '9cfb412eafab'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('description', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category'))
    )
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_slug'), ['slug'], unique=True)

    op.create_table('institution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('acronym', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('description', sa.JSON(), nullable=False),
    sa.Column('website', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('contact', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution'))
    )
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_slug'), ['slug'], unique=True)

    op.create_table('life_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('description', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_life_event'))
    )
    with op.batch_alter_table('life_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_life_event_slug'), ['slug'], unique=True)

    op.create_table('synonym',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('one_way', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synonym'))
    )
    op.create_table('service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('alternative_names', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('description', sa.JSON(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('eligibility', sa.JSON(), nullable=False),
    sa.Column('required_documents', sa.JSON(), nullable=False),
    sa.Column('identifiers', sa.JSON(), nullable=False),
    sa.Column('output', sa.JSON(), nullable=False),
    sa.Column('cost', sa.JSON(), nullable=False),
    sa.Column('processing_time', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('processing_time_note', sa.JSON(), nullable=True),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('launch_mode', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('launch_api_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('launch_assurance', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('legal_basis', sa.JSON(), nullable=False),
    sa.Column('contact', sa.JSON(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('alert', sa.JSON(), nullable=True),
    sa.Column('last_reviewed', sa.Date(), nullable=False),
    sa.Column('review_due', sa.Date(), nullable=False),
    sa.Column('popularity', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_service_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service'))
    )
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_popularity'), ['popularity'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_slug'), ['slug'], unique=True)
        batch_op.create_index(batch_op.f('ix_service_status'), ['status'], unique=False)

    op.create_table('service_category',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_service_category_category_id_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_category_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'category_id', name=op.f('pk_service_category'))
    )
    with op.batch_alter_table('service_category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_category_category_id'), ['category_id'], unique=False)

    op.create_table('service_life_event',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('life_event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['life_event_id'], ['life_event.id'], name=op.f('fk_service_life_event_life_event_id_life_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_life_event_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'life_event_id', name=op.f('pk_service_life_event'))
    )
    with op.batch_alter_table('service_life_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_life_event_life_event_id'), ['life_event_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('service_life_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_life_event_life_event_id'))

    op.drop_table('service_life_event')
    with op.batch_alter_table('service_category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_category_category_id'))

    op.drop_table('service_category')
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_status'))
        batch_op.drop_index(batch_op.f('ix_service_slug'))
        batch_op.drop_index(batch_op.f('ix_service_popularity'))
        batch_op.drop_index(batch_op.f('ix_service_institution_id'))

    op.drop_table('service')
    op.drop_table('synonym')
    with op.batch_alter_table('life_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_life_event_slug'))

    op.drop_table('life_event')
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_slug'))

    op.drop_table('institution')
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_slug'))

    op.drop_table('category')
