"""messages keep the Idempotency-Key they were sent with (one message per sender and key in a thread)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 04:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=255), nullable=True))
        batch_op.create_index('uq_messages_thread_id_sender_id_idempotency_key',
                              ['thread_id', 'sender_id', 'idempotency_key'], unique=True,
                              postgresql_where=sa.text('idempotency_key IS NOT NULL'),
                              sqlite_where=sa.text('idempotency_key IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('uq_messages_thread_id_sender_id_idempotency_key')
        batch_op.drop_column('idempotency_key')
