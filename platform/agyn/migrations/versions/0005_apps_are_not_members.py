"""apps are not members: an installation's `member` tuple becomes `installed_app`

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 01:10:00.000000

An installed app used to be granted `member` on its organization, which let its service token list
the organization's secrets, providers, runners and memberships. It now holds `installed_app` (a
place in threads) and its declared permissions only. This rewrites the stored tuples of the embedded
engine; a deployment on an OpenFGA server runs `agyn authz check-consistency --repair` afterwards.
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import agyn.kit.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

identities = sa.table("identities", sa.column("id", sa.Uuid()), sa.column("type", sa.String()))
installations = sa.table("app_installations", sa.column("app_id", sa.Uuid()),
                         sa.column("organization_id", sa.Uuid()))
tuples = sa.table("authorization_tuples", sa.column("object", sa.String()), sa.column("relation", sa.String()),
                  sa.column("user", sa.String()), sa.column("created_at", agyn.kit.db.UTCDateTime()))


def _swap(old: str, new: str) -> None:
    connection = op.get_bind()
    apps = [f"identity:{row.id}" for row in connection.execute(sa.select(identities.c.id)
                                                                .where(identities.c.type == "app"))]
    if apps:
        connection.execute(tuples.delete().where(tuples.c.relation == old, tuples.c.user.in_(apps),
                                                 tuples.c.object.startswith("organization:")))
    for row in connection.execute(sa.select(installations.c.app_id, installations.c.organization_id)):
        key = {"user": f"identity:{row.app_id}", "relation": new, "object": f"organization:{row.organization_id}"}
        exists = connection.execute(sa.select(tuples.c.user).where(*(tuples.c[k] == v for k, v in key.items())))
        if exists.first() is None:
            connection.execute(tuples.insert().values(**key, created_at=datetime.now(UTC)))


def upgrade() -> None:
    _swap("member", "installed_app")


def downgrade() -> None:
    _swap("installed_app", "member")
