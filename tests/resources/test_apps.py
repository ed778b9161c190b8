"""Apps and app installations: service tokens, visibility, and the grants an installation makes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from agyn.authorization.engine import TupleKey
from agyn.identity.service import IdentityService
from agyn.kit.audit import AuditEvent
from agyn.kit.principal import IdentityType, Principal
from tests.conftest import Api, User, assert_problem

APPS, INSTALLATIONS = "/api/v1/apps", "/api/v1/app-installations"


async def create_app(api: Api, owner: User, org: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = await api.client.post(APPS, headers=owner.headers, json={
        "organization_id": org["id"], "slug": "telegram", "name": "Telegram", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def install(api: Api, caller: User, app: dict[str, Any], org: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = await api.client.post(INSTALLATIONS, headers=caller.headers, json={
        "app_id": app["id"], "organization_id": org["id"], **fields})
    assert response.status_code == 201, response.text
    return response.json()


def app_principal(app: dict[str, Any]) -> Principal:
    return Principal(uuid.UUID(app["id"]), IdentityType.app)


async def test_app_lifecycle_and_service_token(api: Api) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    app = await create_app(api, owner, org, description="Chats from Telegram", permissions=["thread:create"])
    assert app["visibility"] == "internal" and app["permissions"] == ["thread:create"]
    token = app["service_token"]
    me = await api.client.get("/me", headers=api.auth(token))
    assert me.json() == {**me.json(), "identity_id": app["id"], "identity_type": "app"}

    url = f"{APPS}/{app['id']}"
    read = await api.client.get(url, headers=owner.headers)
    assert read.status_code == 200 and "service_token" not in read.json() and token not in read.text
    listed = await api.client.get(APPS, headers=owner.headers, params={"slug": "telegram"})
    assert [a["id"] for a in listed.json()["items"]] == [app["id"]] and token not in listed.text
    assert (await api.client.get(url, headers=api.auth(token))).status_code == 200  # an app reads itself

    changed = await api.client.patch(url, headers=owner.headers, json={"name": "Telegram bot", "visibility": "public"})
    assert changed.status_code == 200 and changed.json()["visibility"] == "public"
    for immutable in ({"slug": "tg"}, {"permissions": ["thread:write"]}):
        refused = await api.client.patch(url, headers=owner.headers, json=immutable)
        assert assert_problem(refused, 400, "invalid_argument")["errors"][0]["field"] in immutable

    taken = await api.client.post(APPS, headers=api.admin, json={
        "organization_id": (await api.organization(owner))["id"], "slug": "telegram", "name": "Other"})
    assert "telegram" in assert_problem(taken, 409, "already_exists")["detail"]

    assert (await api.client.delete(url, headers=owner.headers)).status_code == 204
    assert_problem(await api.client.get(url, headers=owner.headers), 404, "not_found")
    assert_problem(await api.client.get("/me", headers=api.auth(token)), 401, "unauthenticated")
    async with api.app.state.platform.database.transaction() as session:
        assert await api.app.state.platform.get(IdentityService).get_type(session, uuid.UUID(app["id"])) is None


async def test_app_fields_are_validated(api: Api) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    base = {"organization_id": org["id"], "name": "App"}
    unknown = await api.client.post(APPS, headers=owner.headers, json={
        **base, "slug": "app", "permissions": ["thread:create", "thread:delete"]})
    assert assert_problem(unknown, 400, "invalid_argument")["errors"][0]["field"].startswith("permissions")
    for slug in ("Telegram", "-tg", "tg-", "a" * 64, ""):
        bad = await api.client.post(APPS, headers=owner.headers, json={**base, "slug": slug})
        assert assert_problem(bad, 400, "invalid_argument")["errors"][0]["field"] == "slug", slug
    visibility = await api.client.post(APPS, headers=owner.headers, json={**base, "slug": "a", "visibility": "secret"})
    assert_problem(visibility, 400, "invalid_argument")
    ok = await api.client.post(APPS, headers=owner.headers, json={**base, "slug": "a" * 63})
    assert ok.status_code == 201, ok.text
    # the app's slug does not fit a nickname: the installation must name its own
    too_long = await api.client.post(INSTALLATIONS, headers=owner.headers, json={
        "app_id": ok.json()["id"], "organization_id": org["id"]})
    assert assert_problem(too_long, 400, "invalid_argument")["errors"][0]["field"] == "slug"
    assert (await install(api, owner, ok.json(), org, slug="long"))["slug"] == "long"


async def test_who_sees_and_manages_apps(api: Api) -> None:
    owner, member, outsider = await api.user("owner"), await api.user("member"), await api.user("outsider")
    org = await api.organization(owner)
    await api.add_member(org["id"], member)
    internal = await create_app(api, owner, org, slug="internal")
    public = await create_app(api, owner, org, slug="public", visibility="public")

    assert_problem(await api.client.post(APPS, headers=member.headers, json={
        "organization_id": org["id"], "slug": "m", "name": "M"}), 403, "permission_denied")
    unseen = await api.client.post(APPS, headers=outsider.headers, json={
        "organization_id": org["id"], "slug": "o", "name": "O"})
    assert assert_problem(unseen, 400, "invalid_argument")["errors"][0]["field"] == "organization_id"

    for app in (internal, public):
        url = f"{APPS}/{app['id']}"
        assert (await api.client.get(url, headers=member.headers)).status_code == 200
        assert (await api.client.get(url, headers=api.admin)).status_code == 200
        assert_problem(await api.client.patch(url, headers=member.headers, json={"name": "x"}), 403,
                       "permission_denied")
    assert (await api.client.get(f"{APPS}/{public['id']}", headers=outsider.headers)).status_code == 200
    assert_problem(await api.client.patch(f"{APPS}/{public['id']}", headers=outsider.headers, json={"name": "x"}),
                   403, "permission_denied")
    assert_problem(await api.client.get(f"{APPS}/{internal['id']}", headers=outsider.headers), 404, "not_found")
    assert_problem(await api.client.delete(f"{APPS}/{internal['id']}", headers=outsider.headers), 404, "not_found")

    def ids(response: Any) -> set[str]:
        return {a["id"] for a in response.json()["items"]}

    assert ids(await api.client.get(APPS, headers=member.headers)) == {internal["id"], public["id"]}
    assert ids(await api.client.get(APPS, headers=outsider.headers)) == {public["id"]}
    assert ids(await api.client.get(APPS, headers=member.headers, params={"visibility": "internal"})) == {
        internal["id"]}
    assert ids(await api.client.get(APPS, headers=api.auth(internal["service_token"]))) == {
        internal["id"], public["id"]}


async def test_installing_grants_declared_permissions_not_membership(api: Api) -> None:
    vendor, customer, member = await api.user("vendor"), await api.user("customer"), await api.user("member")
    vendor_org, customer_org = await api.organization(vendor), await api.organization(customer)
    await api.add_member(customer_org["id"], member)
    app = await create_app(api, vendor, vendor_org, visibility="public",
                           permissions=["thread:create", "participant:add"])
    authz, store = api.app.state.platform.authz, api.app.state.platform.authz._store
    org_object = f"organization:{customer_org['id']}"
    assert not await authz.check(app_principal(app), "can_create_thread", org_object)

    assert_problem(await api.client.post(INSTALLATIONS, headers=member.headers, json={
        "app_id": app["id"], "organization_id": customer_org["id"]}), 403, "permission_denied")
    installation = await install(api, customer, app, customer_org, configuration={"chat": 42})
    assert installation["slug"] == "telegram" and installation["configuration"] == {"chat": 42}
    subject = f"identity:{app['id']}"
    granted = {TupleKey(subject, relation, org_object)
               for relation in ("installed_app", "thread_create", "participant_add")}
    assert granted <= set(store) and TupleKey(subject, "thread_write", org_object) not in store
    assert TupleKey(subject, "member", org_object) not in store
    assert await authz.check(app_principal(app), "can_create_thread", org_object)
    assert await authz.check(app_principal(app), "participant_add", org_object)
    assert not await authz.check(app_principal(app), "thread_write", org_object)
    # least privilege: the app creates threads, but the organization's control plane stays closed to it
    app_headers = api.auth(app["service_token"])
    assert_problem(await api.client.get(f"/api/v1/organizations/{customer_org['id']}", headers=app_headers),
                   404, "not_found")
    for collection in ("secrets", "llm-providers", "secret-providers", "runners", "memberships", "agents",
                       "models", "app-installations"):
        listed = await api.client.get(f"/api/v1/{collection}", headers=app_headers,
                                      params={"organization_id": customer_org["id"]})
        assert listed.status_code == 200, listed.text
        assert [item for item in listed.json()["items"] if item.get("organization_id") == customer_org["id"]] == []
    thread = await api.client.post("/api/v1/threads", headers=app_headers,
                                   json={"organization_id": customer_org["id"], "participants": [member.id]})
    assert thread.status_code == 201, thread.text

    again = await api.client.post(INSTALLATIONS, headers=customer.headers, json={
        "app_id": app["id"], "organization_id": customer_org["id"]})
    assert_problem(again, 409, "already_exists")

    url = f"{INSTALLATIONS}/{installation['id']}"
    assert (await api.client.get(url, headers=member.headers)).status_code == 200
    assert_problem(await api.client.get(url, headers=vendor.headers), 404, "not_found")
    assert_problem(await api.client.patch(url, headers=member.headers, json={"slug": "tg"}), 403, "permission_denied")
    listed = await api.client.get(INSTALLATIONS, headers=member.headers, params={"app_id": app["id"]})
    assert [i["id"] for i in listed.json()["items"]] == [installation["id"]]
    assert (await api.client.get(INSTALLATIONS, headers=vendor.headers)).json()["items"] == []

    in_use = await api.client.delete(f"{APPS}/{app['id']}", headers=vendor.headers)
    assert installation["id"] in assert_problem(in_use, 409, "failed_precondition")["detail"]
    private = await api.client.patch(f"{APPS}/{app['id']}", headers=vendor.headers, json={"visibility": "internal"})
    assert installation["id"] in assert_problem(private, 409, "failed_precondition")["detail"]
    org_in_use = await api.client.delete(f"/api/v1/organizations/{customer_org['id']}", headers=customer.headers)
    assert installation["id"] in assert_problem(org_in_use, 409, "failed_precondition")["detail"]

    assert (await api.client.delete(url, headers=customer.headers)).status_code == 204
    assert not granted & set(store)
    assert not await authz.check(app_principal(app), "can_create_thread", org_object)
    assert (await api.client.delete(f"{APPS}/{app['id']}", headers=vendor.headers)).status_code == 204

    async with api.app.state.platform.database.transaction() as session:
        actions = (await session.scalars(select(AuditEvent.action).where(
            AuditEvent.target_id == installation["id"]).order_by(AuditEvent.created_at))).all()
    assert actions == ["app.install", "app.uninstall"]


async def test_installation_nickname_and_configuration(api: Api) -> None:
    owner = await api.user("owner")
    org = await api.organization(owner)
    platform = api.app.state.platform
    app = await create_app(api, owner, org, slug="reminders", permissions=["thread:write"])
    other = await create_app(api, owner, org, slug="other")
    installation = await install(api, owner, app, org)
    assert installation["configuration"] == {}
    await install(api, owner, other, org, slug="bot")

    async def nickname_holder(nickname: str) -> uuid.UUID | None:
        async with platform.database.transaction() as session:
            return await platform.get(IdentityService).resolve_nickname(session, uuid.UUID(org["id"]), nickname)

    assert await nickname_holder("reminders") == uuid.UUID(app["id"])
    url = f"{INSTALLATIONS}/{installation['id']}"
    clash = await api.client.patch(url, headers=owner.headers, json={"slug": "bot"})
    assert_problem(clash, 409, "already_exists")
    owner_clash = await api.client.patch(url, headers=owner.headers, json={"slug": "owner"})  # the user's handle
    assert_problem(owner_clash, 409, "already_exists")

    renamed = await api.client.patch(url, headers=owner.headers, json={"slug": "remind", "configuration": {"tz": "UTC"}})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["slug"] == "remind" and renamed.json()["configuration"] == {"tz": "UTC"}
    assert await nickname_holder("remind") == uuid.UUID(app["id"]) and await nickname_holder("reminders") is None
    reset = await api.client.patch(url, headers=owner.headers, json={"slug": None})
    assert reset.json()["slug"] == "reminders" and await nickname_holder("reminders") == uuid.UUID(app["id"])
    not_object = await api.client.patch(url, headers=owner.headers, json={"configuration": ["a"]})
    assert_problem(not_object, 400, "invalid_argument")

    assert await platform.authz.check(app_principal(app), "thread_write", f"organization:{org['id']}")
    assert (await api.client.delete(url, headers=owner.headers)).status_code == 204
    assert await nickname_holder("reminders") is None
    assert not await platform.authz.check(app_principal(app), "thread_write", f"organization:{org['id']}")
    async with platform.database.transaction() as session:
        actions = (await session.scalars(select(AuditEvent.action).where(
            AuditEvent.target_id == installation["id"]).order_by(AuditEvent.created_at))).all()
    assert actions == ["app.install", "app.configure", "app.uninstall"]


async def test_internal_apps_install_only_at_home(api: Api) -> None:
    vendor, customer = await api.user("vendor"), await api.user("customer")
    vendor_org, customer_org = await api.organization(vendor), await api.organization(customer)
    app = await create_app(api, vendor, vendor_org)
    # the customer cannot see the internal app at all
    unseen = await api.client.post(INSTALLATIONS, headers=customer.headers, json={
        "app_id": app["id"], "organization_id": customer_org["id"]})
    assert assert_problem(unseen, 400, "invalid_argument")["errors"][0]["field"] == "app_id"
    # a manager of both organizations sees it, but it still installs only into its own
    await api.add_member(vendor_org["id"], customer)
    elsewhere = await api.client.post(INSTALLATIONS, headers=customer.headers, json={
        "app_id": app["id"], "organization_id": customer_org["id"]})
    assert "internal" in assert_problem(elsewhere, 403, "permission_denied")["detail"]
    at_home = await install(api, vendor, app, vendor_org)
    assert at_home["organization_id"] == vendor_org["id"]


async def test_apps_join_by_installation_not_membership(api: Api) -> None:
    """An app's membership comes from its installation alone, so uninstalling cannot drop a real one."""
    owner = await api.user("owner")
    org = await api.organization(owner)
    app = await create_app(api, owner, org)
    refused = await api.client.post("/api/v1/memberships", headers=api.admin, json={
        "organization_id": org["id"], "identity_id": app["id"]})
    assert "app-installations" in assert_problem(refused, 400, "invalid_argument")["detail"]
