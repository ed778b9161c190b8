"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 10:11:22.116747
"""
from collections.abc import Sequence

import agyn.kit.db
import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('actor_identity_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_identity_id'), ['actor_identity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_target_id'), ['target_id'], unique=False)

    op.create_table('authorization_tuples',
    sa.Column('object', sa.String(length=255), nullable=False),
    sa.Column('relation', sa.String(length=64), nullable=False),
    sa.Column('user', sa.String(length=255), nullable=False),
    sa.Column('created_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('object', 'relation', 'user', name=op.f('pk_authorization_tuples'))
    )
    with op.batch_alter_table('authorization_tuples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authorization_tuples_user'), ['user'], unique=False)

    op.create_table('idempotency_records',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('etag', sa.String(length=100), nullable=True),
    sa.Column('created_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_idempotency_records'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)

    op.create_table('identities',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('created_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identities'))
    )
    op.create_table('org_nicknames',
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('nickname', sa.String(length=32), nullable=False),
    sa.Column('identity_id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('organization_id', 'nickname', name=op.f('pk_org_nicknames')),
    sa.UniqueConstraint('organization_id', 'identity_id', name=op.f('uq_org_nicknames_organization_id_identity_id'))
    )
    with op.batch_alter_table('org_nicknames', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_nicknames_identity_id'), ['identity_id'], unique=False)

    op.create_table('organizations',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('is_system', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('name', name=op.f('uq_organizations_name'))
    )
    op.create_table('platform_state',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('updated_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_platform_state'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('identity_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_prefix', sa.String(length=8), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_api_tokens_identity_id_identities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_identity_id'), ['identity_id'], unique=False)

    op.create_table('memberships',
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('identity_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('invited_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_memberships_identity_id_identities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_memberships_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('organization_id', 'identity_id', name=op.f('uq_memberships_organization_id_identity_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_identity_id'), ['identity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_organization_id'), ['organization_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('oidc_subject', sa.String(length=255), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('photo_url', sa.String(length=2048), nullable=False),
    sa.Column('created_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', agyn.kit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['identities.id'], name=op.f('fk_users_id_identities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('oidc_subject', name=op.f('uq_users_oidc_subject')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )


def downgrade() -> None:
    op.drop_table('users')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_organization_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_identity_id'))

    op.drop_table('memberships')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_identity_id'))

    op.drop_table('api_tokens')
    op.drop_table('platform_state')
    op.drop_table('organizations')
    with op.batch_alter_table('org_nicknames', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_nicknames_identity_id'))

    op.drop_table('org_nicknames')
    op.drop_table('identities')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_created_at'))

    op.drop_table('idempotency_records')
    with op.batch_alter_table('authorization_tuples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authorization_tuples_user'))

    op.drop_table('authorization_tuples')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_target_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_identity_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
