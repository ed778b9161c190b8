"""What a workload may read: the files its own thread's messages carry, and no other file of its
organization, not even one its agent could read in another thread; it uploads and deletes nothing."""

from __future__ import annotations

from tests.conftest import assert_problem
from tests.files.conftest import FILES, World
from tests.runners.test_workload_tokens import mint


async def test_a_workload_reads_the_files_of_its_own_threads_messages_only(world: World) -> None:
    team, api = world.team, world.api
    helper = await team.org.agent(nickname="helper")
    mine = await team.thread(team.bob, "@helper")
    elsewhere = await team.thread(team.carol, "@helper")
    shared = await world.uploaded(team.bob, b"for the agent\n", "brief.txt")
    other = await world.uploaded(team.carol, b"for the other thread\n", "other.txt")
    unsent = await world.uploaded(team.bob, b"never sent\n", "draft.txt")
    assert (await team.send(team.bob, mine["id"], "read this", file_ids=[shared["id"]])).status_code == 201
    assert (await team.send(team.carol, elsewhere["id"], "and this", file_ids=[other["id"]])).status_code == 201
    as_workload = api.auth(await mint(api, helper["id"], mine["id"], team.org.id))

    metadata = await api.client.get(f"{FILES}/{shared['id']}", headers=as_workload)
    assert metadata.status_code == 200 and metadata.json()["filename"] == "brief.txt"
    content = await api.client.get(f"{FILES}/{shared['id']}/content", headers=as_workload)
    assert content.status_code == 200 and content.content == b"for the agent\n"
    for hidden in (other, unsent):  # another thread's file (its agent takes part there too), an unsent one
        assert_problem(await api.client.get(f"{FILES}/{hidden['id']}", headers=as_workload), 404, "not_found")
        assert_problem(await api.client.get(f"{FILES}/{hidden['id']}/content", headers=as_workload), 404,
                       "not_found")
    assert_problem(await api.client.post(FILES, headers=as_workload, params={"organization_id": team.org.id},
                                         files={"file": ("a.txt", b"a", "text/plain")}), 403, "permission_denied")
    assert_problem(await api.client.delete(f"{FILES}/{shared['id']}", headers=as_workload), 403,
                   "permission_denied")
    # the agent may pass a file of its thread on in its own messages
    reply = await api.client.post(f"/api/v1/threads/{mine['id']}/messages", headers=as_workload,
                                  json={"body": "here it is again", "file_ids": [shared["id"]]})
    assert reply.status_code == 201, reply.text
    refused = await api.client.post(f"/api/v1/threads/{mine['id']}/messages", headers=as_workload,
                                    json={"body": "and this", "file_ids": [other["id"]]})
    assert_problem(refused, 400, "invalid_argument")
