"""The platform on its production authorization backend: an OpenFGA server (the local double).

Tuples are sent after the request's commit, so grants appear once a request succeeded and never
for one that failed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agyn.agents.models import Agent
from agyn.authorization.engine import TupleKey
from agyn.authorization.openfga import OpenFGABackend
from agyn.settings import OpenFGASettings
from tests.authorization.fake_openfga import FakeOpenFga, serve
from tests.conftest import Api, running_api
from tests.resources.agents_support import AgentUpdates, make_org


@pytest.fixture
async def openfga_api(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Api, FakeOpenFga]]:
    fake = FakeOpenFga()
    async with serve(fake) as url:
        backend = await OpenFGABackend.create_store(url, "agyn-platform-test")
        openfga = OpenFGASettings(api_url=url, store_id=backend.store_id, model_id=backend.model_id)
        await backend.close()
        async with running_api(database_url, tmp_path / "data", openfga=openfga) as api:
            assert not api.app.state.platform.authz.embedded
            yield api, fake


async def test_invitation_flow_on_openfga(openfga_api: tuple[Api, FakeOpenFga]) -> None:
    api, fake = openfga_api
    client, admin = api.client, api.admin
    me = (await client.get("/me", headers=admin)).json()
    assert me["cluster_role"] == "admin"  # the bootstrap's admin tuple reached the OpenFGA server

    created = await client.post("/api/v1/users", headers=admin, json={"oidc_subject": "t|dana", "username": "dana"})
    dana_id = created.json()["id"]
    dana_token = (await client.post(f"/api/v1/users/{dana_id}/api-tokens", headers=admin,
                                    json={"name": "t"})).json()["token"]
    dana = {"Authorization": f"Bearer {dana_token}"}

    org = (await client.post("/api/v1/organizations", headers=admin, json={"name": "acme"})).json()
    store = next(iter(fake.stores.values()))
    assert TupleKey(f"identity:{me['identity_id']}", "owner", f"organization:{org['id']}") in store.tuples

    invite = await client.post("/api/v1/memberships", headers=admin,
                               json={"organization_id": org["id"], "identity_id": dana_id})
    assert invite.status_code == 201 and invite.json()["status"] == "active"  # a cluster admin's grant
    assert (await client.get(f"/api/v1/organizations/{org['id']}", headers=dana)).status_code == 200
    assert (await client.delete(f"/api/v1/organizations/{org['id']}", headers=dana)).status_code == 403

    removed = await client.delete(f"/api/v1/memberships/{invite.json()['id']}", headers=admin)
    assert removed.status_code == 204
    assert (await client.get(f"/api/v1/organizations/{org['id']}", headers=dana)).status_code == 404


async def test_a_tuple_write_that_fails_after_commit_fails_alone(
    openfga_api: tuple[Api, FakeOpenFga], caplog: pytest.LogCaptureFixture
) -> None:
    """The OpenFGA write runs after the commit: when it fails, the committed agent stands, the
    `agent.updated` event after it is still published, and the failure is logged and counted."""
    api, fake = openfga_api
    org = await make_org(api)
    updates = AgentUpdates(api)
    fake.refuse_writes = True
    with caplog.at_level(logging.ERROR, logger="agyn.db"):
        created = await api.client.post("/api/v1/agents", headers=org.owner.headers, json={
            "organization_id": org.id, "name": "scribe", "role": "assistant", "model": org.model_id,
            "availability": "internal"})
    fake.refuse_writes = False
    assert created.status_code == 201, created.text
    async with api.app.state.platform.database.transaction() as session:
        assert await session.get(Agent, uuid.UUID(created.json()["id"])) is not None
    assert updates.agent_ids == [created.json()["id"]]
    [failure] = [r for r in caplog.records if r.getMessage().startswith("after-commit work failed")]
    assert failure.after_commit == "authorization tuples"  # type: ignore[attr-defined]
    metrics = (await api.client.get("/metrics")).text
    assert 'agyn_after_commit_failures_total{kind="authorization"} 1.0' in metrics
