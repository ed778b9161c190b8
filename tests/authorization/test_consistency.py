"""`agyn authz check-consistency`: tuples that outlived their objects are reported, and removed with
--repair; a store without drift reports nothing."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import delete, select

from agyn.agents.models import Agent
from agyn.authorization.consistency import OBJECT_TABLES, ROWLESS_TYPES, find_orphans, remove_orphans
from agyn.authorization.engine import Engine, TupleKey
from agyn.authorization.models import AuthorizationTuple
from agyn.authorization.service import AuthorizationService
from tests.cli.test_cli import agyn, cli_env, one_error_line
from tests.conftest import Api
from tests.resources.agents_support import ROLES, make_org


def test_every_type_of_the_model_has_a_table_or_no_rows() -> None:
    types = set(Engine.from_file().model.types)
    assert types == set(OBJECT_TABLES) | ROWLESS_TYPES


async def stored(api: Api) -> set[TupleKey]:
    async with api.app.state.platform.database.transaction() as session:
        rows = await session.execute(select(AuthorizationTuple.user, AuthorizationTuple.relation,
                                            AuthorizationTuple.object))
        return {TupleKey(r.user, r.relation, r.object) for r in rows}


async def test_orphans_are_reported_and_repaired(api: Api) -> None:
    platform = api.app.state.platform
    authz = platform.get(AuthorizationService)
    org = await make_org(api)
    kept, dropped = await org.agent(), await org.agent()
    member = await org.member("holder")
    for agent in (kept, dropped):
        granted = await api.client.post(ROLES, headers=org.owner.headers,
                                        json={"agent_id": agent["id"], "identity_id": member.id, "role": "maintainer"})
        assert granted.status_code == 201, granted.text
    async with platform.database.transaction() as session:
        assert await find_orphans(session, authz) == []
        # drift: a row gone without its tuples (a failed after-commit write, a restored backup), and a
        # grant naming an identity that never existed
        await session.execute(delete(Agent).where(Agent.id == uuid.UUID(dropped["id"])))
        ghost = TupleKey(f"identity:{uuid.uuid4()}", "participant", f"agent:{kept['id']}")
        await authz.write(session, [ghost])
    async with platform.database.transaction() as session:
        orphans = await find_orphans(session, authz)
    expected = {key for key in await stored(api) if key.object == f"agent:{dropped['id']}"} | {ghost}
    assert len(expected) >= 3  # the agent's organization, its owner, the maintainer
    assert {orphan.key for orphan in orphans} == expected
    assert {orphan.missing for orphan in orphans} == {f"agent:{dropped['id']}", ghost.user}

    async with platform.database.transaction() as session:
        await remove_orphans(session, authz, orphans)
    after = await stored(api)
    assert not expected & after
    assert TupleKey(f"identity:{member.id}", "maintainer", f"agent:{kept['id']}") in after
    assert not expected & set(platform.authz._store)
    async with platform.database.transaction() as session:
        assert await find_orphans(session, authz) == []


async def test_the_command_reports_then_repairs(api: Api, database_url: str, tmp_path: Path) -> None:
    platform = api.app.state.platform
    org = await make_org(api)
    agent = await org.agent()
    async with platform.database.transaction() as session:
        await session.execute(delete(Agent).where(Agent.id == uuid.UUID(agent["id"])))
    env = cli_env(AGYN_DATABASE_URL=database_url, AGYN_DATA_DIR=str(tmp_path / "cli-data"), COLUMNS="250")

    def run(*args: str) -> tuple[int, str, str]:
        result = agyn("authz", "check-consistency", *args, cwd=tmp_path, env=env)
        return result.returncode, result.stdout, result.stderr

    code, out, err = await asyncio.to_thread(run)
    assert code == 1, (out, err)
    assert f"agent:{agent['id']}" in out and "org" in out and "owner" in out
    assert "orphan tuple" in err and "--repair" in err
    line = one_error_line(agyn("authz", "check-consistency", cwd=tmp_path, env=env))
    assert line.startswith("error: found ")
    code, out, err = await asyncio.to_thread(run, "--repair")
    assert code == 0, (out, err)
    assert "Removed 3 orphan tuples." in out  # org, owner, internal_access
    assert not [key for key in await stored(api) if key.object == f"agent:{agent['id']}"]
    code, out, err = await asyncio.to_thread(run)
    assert code == 0 and "No orphan tuples" in out, (out, err)
