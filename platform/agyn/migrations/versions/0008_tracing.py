"""tracing: spans

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 04:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('spans',
    sa.Column('trace_id', sa.String(length=32), nullable=False),
    sa.Column('span_id', sa.String(length=16), nullable=False),
    sa.Column('parent_span_id', sa.String(length=16), nullable=True),
    sa.Column('trace_state', sa.Text(), nullable=True),
    sa.Column('flags', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Integer(), nullable=False),
    sa.Column('start_time_unix_nano', sa.BigInteger(), nullable=False),
    sa.Column('end_time_unix_nano', sa.BigInteger(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('status_message', sa.Text(), nullable=True),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('resource', sa.JSON(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('dropped_counts', sa.JSON(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('identity_id', sa.Uuid(), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=True),
    sa.Column('thread_id', sa.Uuid(), nullable=True),
    sa.Column('workload_id', sa.Uuid(), nullable=True),
    sa.Column('message_id', sa.Uuid(), nullable=True),
    sa.Column('received_unix_nano', sa.BigInteger(), nullable=False),
    sa.Column('updated_unix_nano', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('trace_id', 'span_id', name=op.f('pk_spans'))
    )
    with op.batch_alter_table('spans', schema=None) as batch_op:
        batch_op.create_index('ix_spans_message', ['message_id'], unique=False,
                              postgresql_where=sa.text('message_id IS NOT NULL'),
                              sqlite_where=sa.text('message_id IS NOT NULL'))
        batch_op.create_index('ix_spans_organization_start', ['organization_id', 'start_time_unix_nano'], unique=False)
        batch_op.create_index('ix_spans_start', ['start_time_unix_nano'], unique=False)
        batch_op.create_index('ix_spans_thread_start', ['thread_id', 'start_time_unix_nano'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spans', schema=None) as batch_op:
        batch_op.drop_index('ix_spans_thread_start')
        batch_op.drop_index('ix_spans_start')
        batch_op.drop_index('ix_spans_organization_start')
        batch_op.drop_index('ix_spans_message')
    op.drop_table('spans')
