"""Ownership rules under concurrency: requests sent at the same moment, 50 rounds each, on every backend.

Each rule is decided once in its service under a row lock (`kit.db.lock_rows`), so whichever of two
racing transactions commits second sees the other: an organization always keeps an owner, a role on
an agent never outlives its holder's membership, and no tuple outlives its agent. A violation in any
round fails the test; so does any 5xx.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select

from agyn.authorization.consistency import find_orphans
from agyn.authorization.engine import TupleKey
from agyn.authorization.models import AuthorizationTuple
from agyn.authorization.service import AuthorizationService
from agyn.organizations.models import Membership
from tests.conftest import Api, User
from tests.resources.agents_support import AGENTS, ROLES, make_org

ROUNDS = 50
MEMBERSHIPS = "/api/v1/memberships"


def no_server_error(*responses: httpx.Response) -> None:
    for response in responses:
        assert response.status_code < 500, response.text


async def owners(api: Api, organization_id: str) -> int:
    async with api.app.state.platform.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Membership).where(
            Membership.organization_id == uuid.UUID(organization_id), Membership.role == "owner",
            Membership.status == "active")) or 0)


async def stored(api: Api, **where: str) -> set[TupleKey]:
    """Tuples as the database holds them, and as the embedded engine's index holds them."""
    async with api.app.state.platform.database.transaction() as session:
        statement = select(AuthorizationTuple.user, AuthorizationTuple.relation, AuthorizationTuple.object)
        for column, value in where.items():
            statement = statement.where(getattr(AuthorizationTuple, column) == value)
        rows = {TupleKey(r.user, r.relation, r.object) for r in await session.execute(statement)}
    index = {key for key in api.app.state.platform.authz._store
             if all(getattr(key, column) == value for column, value in where.items())}
    return rows | index


async def membership_of(api: Api, organization_id: str, user: User) -> dict[str, Any]:
    listed = await api.client.get(MEMBERSHIPS, headers=api.admin,
                                  params={"organization_id": organization_id, "identity_id": user.id})
    [membership] = listed.json()["items"]
    return dict(membership)


async def test_two_owners_leaving_or_stepping_down_at_once_leave_one_owner(api: Api) -> None:
    """Item 1: both owners leave (DELETE their own membership) or both make themselves plain members
    (PATCH), at the same moment: one succeeds, the other gets 409 failed_precondition."""
    first, second = await api.user("first"), await api.user("second")
    outcomes: Counter[tuple[int, ...]] = Counter()
    for round_ in range(ROUNDS):
        organization = await api.organization(first)
        await api.add_member(organization["id"], second, "owner")
        mine = [await membership_of(api, organization["id"], user) for user in (first, second)]
        if round_ % 2 == 0:
            requests = [api.client.delete(f"{MEMBERSHIPS}/{m['id']}", headers=user.headers)
                        for m, user in zip(mine, (first, second), strict=True)]
        else:
            requests = [api.client.patch(f"{MEMBERSHIPS}/{m['id']}", headers=user.headers, json={"role": "member"})
                        for m, user in zip(mine, (first, second), strict=True)]
        responses = await asyncio.gather(*requests)
        no_server_error(*responses)
        statuses = tuple(sorted(r.status_code for r in responses))
        outcomes[statuses] += 1
        assert statuses in ((200, 409), (204, 409)), [r.text for r in responses]
        refused = next(r for r in responses if r.status_code == 409)
        assert refused.json()["code"] == "failed_precondition"
        assert await owners(api, organization["id"]) == 1, f"round {round_}: the organization lost its owners"
    print(f"\n[measured] {ROUNDS} rounds of two owners leaving at once: {dict(outcomes)}")


async def test_a_grant_racing_the_removal_of_its_holder_never_survives_it(api: Api) -> None:
    """Item 2: the owner removes a member and grants that member `owner` on an agent at the same moment.
    Either the grant is refused (no longer a member) or the removal revokes it: never both kept."""
    org = await make_org(api)
    agent = await org.agent()
    member = await api.user("racer")
    subject, agent_object = f"identity:{member.id}", f"agent:{agent['id']}"
    outcomes: Counter[tuple[int, int]] = Counter()
    for round_ in range(ROUNDS):
        membership = await api.add_member(org.id, member)
        removal, grant = await asyncio.gather(
            api.client.delete(f"{MEMBERSHIPS}/{membership['id']}", headers=org.owner.headers),
            api.client.post(ROLES, headers=org.owner.headers,
                            json={"agent_id": agent["id"], "identity_id": member.id, "role": "owner"}))
        no_server_error(removal, grant)
        assert removal.status_code == 204, removal.text
        assert grant.status_code in (201, 400), grant.text
        outcomes[(removal.status_code, grant.status_code)] += 1
        assert not await stored(api, user=subject, object=agent_object), \
            f"round {round_}: the ex-member kept a role on the agent"
    # re-added as a plain member, the ex-member cannot do what only an agent's owner may
    await api.add_member(org.id, member)
    availability = await api.client.patch(f"{AGENTS}/{agent['id']}", headers=member.headers,
                                          json={"availability": "private"})
    assert availability.status_code == 403, availability.text
    print(f"\n[measured] {ROUNDS} rounds of removal racing a grant (removal, grant): {dict(outcomes)}")


async def test_a_grant_racing_the_agent_deletion_leaves_no_tuple(api: Api) -> None:
    """Item 5: deleting an agent while a role is granted on it: no tuple outlives the agent, and the
    consistency check finds no orphan afterwards."""
    org = await make_org(api)
    member = await org.member("holder")
    outcomes: Counter[tuple[int, int]] = Counter()
    for round_ in range(ROUNDS):
        agent = await org.agent()
        deletion, grant = await asyncio.gather(
            api.client.delete(f"{AGENTS}/{agent['id']}", headers=org.owner.headers),
            api.client.post(ROLES, headers=org.owner.headers,
                            json={"agent_id": agent["id"], "identity_id": member.id, "role": "maintainer"}))
        no_server_error(deletion, grant)
        assert deletion.status_code == 204, deletion.text
        assert grant.status_code in (201, 400), grant.text
        outcomes[(deletion.status_code, grant.status_code)] += 1
        assert not await stored(api, object=f"agent:{agent['id']}"), f"round {round_}: a tuple outlived its agent"
    platform = api.app.state.platform
    async with platform.database.transaction() as session:
        assert await find_orphans(session, platform.get(AuthorizationService)) == []
    print(f"\n[measured] {ROUNDS} rounds of agent deletion racing a grant (deletion, grant): {dict(outcomes)}")


async def test_an_identity_deletion_racing_a_leave_keeps_an_owner(api: Api) -> None:
    """Item 4's rule under concurrency: an owner user is deleted while the other owner leaves."""
    keeper = await api.user("keeper")
    for round_ in range(ROUNDS // 5):
        doomed = await api.user(f"doomed{round_}")
        organization = await api.organization(keeper)
        await api.add_member(organization["id"], doomed, "owner")
        leave = await membership_of(api, organization["id"], keeper)
        deletion, left = await asyncio.gather(
            api.client.delete(f"/api/v1/users/{doomed.id}", headers=api.admin),
            api.client.delete(f"{MEMBERSHIPS}/{leave['id']}", headers=keeper.headers))
        no_server_error(deletion, left)
        assert sorted((deletion.status_code, left.status_code)) in ([204, 409], [409, 204]), \
            (deletion.text, left.text)
        assert await owners(api, organization["id"]) == 1
