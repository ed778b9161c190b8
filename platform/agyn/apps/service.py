"""Apps and installations: who may see and install an app, the app's identity and service token,
and the permission tuples an installation grants in its organization."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.apps.models import App, AppInstallation
from agyn.apps.resources import APP, APP_INSTALLATION, PERMISSION_RELATIONS
from agyn.apps.schemas import AppInstallationSchemas, AppSchemas
from agyn.authorization import objects
from agyn.authorization.collections import TupleCollectionService
from agyn.authorization.engine import TupleKey
from agyn.identity.nicknames import NICKNAME_PATTERN
from agyn.identity.service import IdentityService
from agyn.kit.audit import record_audit_event
from agyn.kit.collections import CollectionService
from agyn.kit.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from agyn.kit.principal import IdentityType, Principal
from agyn.users.service import UsersService


class AppsService(CollectionService):
    """Its organization manages an app; a public app is everyone's to see (and to install), an internal
    one only its organization's. An app may always read its own record."""

    resource = APP
    model = App
    schemas = AppSchemas

    async def can_read(self, session: AsyncSession, principal: Principal, record: Any) -> bool:
        return record.visibility == "public" or record.id == principal.identity_id or \
            await super().can_read(session, principal, record)

    async def visible(self, session: AsyncSession, principal: Principal, statement: Select[Any]) -> Select[Any]:
        if await self.authz.is_cluster_admin(principal):
            return statement
        organizations = await self.related_ids(principal, "can_view", "organization")
        return statement.where(or_(App.visibility == "public", App.organization_id.in_(organizations),
                                   App.id == principal.identity_id))

    async def after_create(self, session: AsyncSession, principal: Principal, record: Any) -> dict[str, Any]:
        users = self.platform.get(UsersService)
        token = await users.create_service_identity(session, principal, IdentityType.app, record.id)
        return {"service_token": token}

    async def before_update(self, session: AsyncSession, principal: Principal, record: Any,
                            changes: dict[str, Any]) -> None:
        if changes.get("visibility") != "internal":
            return
        elsewhere = await session.scalar(select(AppInstallation.id).where(
            AppInstallation.app_id == record.id, AppInstallation.organization_id != record.organization_id).limit(1))
        if elsewhere is not None:
            raise FailedPrecondition(
                f"app {record.slug} is installed in other organizations (app_installation {elsewhere}); "
                "uninstall it there before making it internal")

    async def before_delete(self, session: AsyncSession, principal: Principal, record: Any) -> None:
        await self.platform.get(UsersService).remove_identity(session, record.id, f"app {record.slug}")


def installation_tuples(app: Any, organization_id: uuid.UUID) -> list[TupleKey]:
    """What an installation grants the app in the organization: a place in its threads and one relation
    per declared permission; never membership, which would open the organization's control plane."""
    subject, organization = objects.identity(app.id), objects.organization(organization_id)
    relations = ["installed_app"] + sorted({PERMISSION_RELATIONS[permission] for permission in app.permissions})
    return [TupleKey(subject, relation, organization) for relation in relations]


class AppInstallationsService(TupleCollectionService):
    """The installing organization's rules: its managers install, configure and uninstall; its members
    read. Installing also needs the app to be public or the organization's own."""

    resource = APP_INSTALLATION
    model = AppInstallation
    schemas = AppInstallationSchemas

    async def authorize_create(self, session: AsyncSession, principal: Principal, values: dict[str, Any]) -> None:
        await super().authorize_create(session, principal, values)
        app = await self._app(session, values["app_id"])
        if app.visibility != "public" and app.organization_id != values["organization_id"]:
            raise PermissionDenied(f"app {app.slug} is internal to its organization; only that organization may "
                                   "install it")

    async def before_create(self, session: AsyncSession, principal: Principal, record: Any,
                            values: dict[str, Any]) -> None:
        app = await self._app(session, record.app_id)
        record.slug = self._nickname(record.slug, app)
        await self.platform.get(IdentityService).set_nickname(session, record.organization_id, app.id, record.slug)

    async def after_create(self, session: AsyncSession, principal: Principal, record: Any) -> dict[str, Any]:
        app = await self._app(session, record.app_id)
        await self.authz.write(session, installation_tuples(app, record.organization_id))
        record_audit_event(session, principal, "app.install", "app_installation", record.id,
                           app_id=str(app.id), organization_id=str(record.organization_id))
        return {}

    async def before_update(self, session: AsyncSession, principal: Principal, record: Any,
                            changes: dict[str, Any]) -> None:
        if "slug" in changes:
            app = await self._app(session, record.app_id)
            changes["slug"] = self._nickname(changes["slug"], app)
            identity = self.platform.get(IdentityService)
            await identity.set_nickname(session, record.organization_id, app.id, changes["slug"])
        if "configuration" in changes:
            record_audit_event(session, principal, "app.configure", "app_installation", record.id,
                               app_id=str(record.app_id), organization_id=str(record.organization_id))

    async def before_delete(self, session: AsyncSession, principal: Principal, record: Any) -> None:
        app = await self._app(session, record.app_id)
        await self.authz.write(session, deletes=installation_tuples(app, record.organization_id))
        await self.platform.get(IdentityService).remove_nickname(session, record.organization_id, app.id)
        record_audit_event(session, principal, "app.uninstall", "app_installation", record.id,
                           app_id=str(app.id), organization_id=str(record.organization_id))

    async def _app(self, session: AsyncSession, app_id: uuid.UUID) -> App:
        app = await session.get(App, app_id)
        assert app is not None, "an installation's app exists (the reference is checked and restricted)"
        return app

    @staticmethod
    def _nickname(slug: str | None, app: App) -> str:
        """The installation's @nickname: the one given, else the app's slug when that fits a nickname."""
        if slug is not None:
            return slug
        if not NICKNAME_PATTERN.fullmatch(app.slug):
            raise InvalidArgument.field("slug", f"the app's slug {app.slug} is too long for a nickname; set slug "
                                                "(1 to 32 characters)")
        return str(app.slug)


