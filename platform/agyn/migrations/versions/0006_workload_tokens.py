"""workload tokens; agents read their own configuration

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 00:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import agyn.kit.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('workload_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=False),
    sa.Column('thread_id', sa.Uuid(), nullable=False),
    sa.Column('workload_id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['identities.id'], name=op.f('fk_workload_tokens_agent_id_identities'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workload_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_workload_tokens_token_hash'))
    )
    with op.batch_alter_table('workload_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workload_tokens_workload_id'), ['workload_id'], unique=False)
    # every existing agent may read its own configuration (new agents get the tuple when created);
    # this fills the embedded engine's store (an OpenFGA server's tuples are not in this database)
    op.execute("INSERT INTO authorization_tuples (object, relation, \"user\", created_at) "
               "SELECT 'agent:' || object_id, 'itself', 'identity:' || object_id, CURRENT_TIMESTAMP FROM "
               "(SELECT substr(object, 7) AS object_id FROM authorization_tuples "
               " WHERE relation = 'org' AND object LIKE 'agent:%') AS agents "
               "WHERE NOT EXISTS (SELECT 1 FROM authorization_tuples t WHERE t.object = 'agent:' || agents.object_id "
               "AND t.relation = 'itself')")


def downgrade() -> None:
    op.execute("DELETE FROM authorization_tuples WHERE relation = 'itself'")
    with op.batch_alter_table('workload_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workload_tokens_workload_id'))
    op.drop_table('workload_tokens')
