"""Files over HTTP, on local storage and on S3: streamed uploads with a size limit and sniffed types,
reads for the organization's members only, ranges, signed URLs, deletes, and files carried by messages."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid

import boto3

from tests.conftest import assert_problem
from tests.files.conftest import FILES, World, png

TEXT = b"hello world, this is a text file with exactly sixty-four bytes!\n"


async def test_an_upload_is_recorded_streamed_back_and_readable_by_members_only(world: World) -> None:
    team, client = world.team, world.api.client
    created = await world.uploaded(team.bob, TEXT, "notes.txt", "text/plain")
    assert set(created) == {"id", "organization_id", "filename", "content_type", "size_bytes", "sha256", "created_at"}
    assert (created["organization_id"], created["filename"], created["content_type"], created["size_bytes"],
            created["sha256"]) == (team.org.id, "notes.txt", "text/plain", len(TEXT), hashlib.sha256(TEXT).hexdigest())

    assert stored_bytes(world, created["id"]) == TEXT  # where the storage setting says, under the file's id

    for reader in (team.bob, team.carol, team.owner):
        metadata = await client.get(f"{FILES}/{created['id']}", headers=reader.headers)
        assert metadata.json() == created
        content = await client.get(f"{FILES}/{created['id']}/content", headers=reader.headers)
        assert content.status_code == 200 and content.content == TEXT
        assert content.headers["content-type"].startswith("text/plain")
        assert content.headers["accept-ranges"] == "bytes"
    assert_problem(await client.get(f"{FILES}/{created['id']}", headers=team.outsider.headers), 404, "not_found")
    assert_problem(await client.get(f"{FILES}/{created['id']}/content", headers=team.outsider.headers), 404,
                   "not_found")
    assert_problem(await client.get(f"{FILES}/{created['id']}/content"), 401, "unauthenticated")
    assert_problem(await client.get(f"{FILES}/{uuid.uuid4()}", headers=team.bob.headers), 404, "not_found")


async def test_a_raw_body_upload_takes_its_name_from_the_query(world: World) -> None:
    team = world.team
    image = png(3, 2)
    response = await world.api.client.post(FILES, headers={**team.bob.headers, "Content-Type": "image/png"},
                                           params={"organization_id": team.org.id, "filename": "dot.png"},
                                           content=image)
    assert response.status_code == 201, response.text
    assert (response.json()["filename"], response.json()["content_type"], response.json()["size_bytes"]) == \
        ("dot.png", "image/png", len(image))
    back = await world.api.client.get(f"{FILES}/{response.json()['id']}/content", headers=team.bob.headers)
    assert back.content == image and back.headers["content-type"] == "image/png"
    missing_name = await world.api.client.post(FILES, headers={**team.bob.headers, "Content-Type": "image/png"},
                                               params={"organization_id": team.org.id}, content=image)
    assert_problem(missing_name, 400, "invalid_argument")


async def test_the_type_is_sniffed_and_a_contradicting_declaration_refused(world: World) -> None:
    team = world.team
    undeclared = await world.uploaded(team.bob, png(2, 2), "picture", None)
    assert undeclared["content_type"] == "image/png"
    generic = await world.uploaded(team.bob, png(2, 2), "picture.bin", "application/octet-stream")
    assert generic["content_type"] == "image/png"
    json_text = await world.uploaded(team.bob, b'{"a": 1}', "data.json", "application/json")
    assert json_text["content_type"] == "application/json"
    assert_problem(await world.upload(team.bob, TEXT, "fake.png", "image/png"), 415, "unsupported_media_type")
    assert_problem(await world.upload(team.bob, png(2, 2), "fake.txt", "text/plain"), 415, "unsupported_media_type")


async def test_too_large_is_413_and_bad_requests_write_nothing(world: World) -> None:
    team, client = world.team, world.api.client
    too_big = b"x" * (1024 * 1024 + 1)
    assert_problem(await world.upload(team.bob, too_big, "big.txt"), 413, "resource_exhausted")
    # streamed without a length: refused as it grows past the limit
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(17):
            yield b"y" * 65536
    streamed = await client.post(FILES, headers={**team.bob.headers, "Content-Type": "text/plain"},
                                 params={"organization_id": team.org.id, "filename": "s.txt"}, content=chunks())
    assert_problem(streamed, 413, "resource_exhausted")
    assert_problem(await client.post(FILES, headers=team.bob.headers, params={"organization_id": team.org.id},
                                     files={"other": ("a.txt", b"a", "text/plain")}), 400, "invalid_argument")
    assert_problem(await world.upload(team.outsider, TEXT), 400, "invalid_argument")
    assert_problem(await client.post(FILES, params={"organization_id": team.org.id}, content=TEXT), 401,
                   "unauthenticated")
    spool = world.api.settings.data_dir / "files" / ".incoming"
    assert not spool.exists() or list(spool.iterdir()) == []  # nothing left behind


async def test_ranges_return_the_first_middle_and_last_bytes(world: World) -> None:
    team = world.team
    data = bytes(range(256)) * 1024  # 256 KiB: several storage chunks
    file = await world.uploaded(team.bob, data, "blob.bin", "application/octet-stream")
    url = f"{FILES}/{file['id']}/content"
    size = len(data)
    for header, start, end in (("bytes=0-10", 0, 10), ("bytes=100000-170000", 100000, 170000),
                               (f"bytes={size - 7}-", size - 7, size - 1), ("bytes=-5", size - 5, size - 1),
                               (f"bytes=10-{size * 2}", 10, size - 1)):
        response = await world.api.client.get(url, headers={**team.bob.headers, "Range": header})
        assert response.status_code == 206, (header, response.text)
        assert response.headers["content-range"] == f"bytes {start}-{end}/{size}", header
        assert response.content == data[start:end + 1], header
    unsatisfiable = await world.api.client.get(url, headers={**team.bob.headers, "Range": f"bytes={size}-"})
    assert_problem(unsatisfiable, 416, "range_not_satisfiable")
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"


async def test_a_signed_url_works_without_a_token_until_it_expires(world: World) -> None:
    team, client = world.team, world.api.client
    file = await world.uploaded(team.bob, TEXT)
    default = await client.post(f"{FILES}/{file['id']}/url", headers=team.carol.headers)
    assert default.status_code == 200, default.text
    assert 880 <= (httpx_time(default.json()["expires_at"]) - time.time()) <= 901
    url = default.json()["url"]
    fetched = await client.get(url)
    assert fetched.status_code == 200 and fetched.content == TEXT
    tampered = url.replace(file["id"], str(uuid.uuid4()))
    assert_problem(await client.get(tampered), 404, "not_found")
    assert_problem(await client.get(url[:-2] + ("AA" if not url.endswith("AA") else "BB")), 404, "not_found")
    short = await client.post(f"{FILES}/{file['id']}/url", headers=team.carol.headers,
                              json={"expires_in_seconds": 1})
    # Wait out the signed lifetime itself, not a guess: a loaded machine may take a second to get here.
    await asyncio.sleep(max(0.0, httpx_time(short.json()["expires_at"]) - time.time()) + 1.1)
    assert_problem(await client.get(short.json()["url"]), 404, "not_found")
    assert_problem(await client.post(f"{FILES}/{file['id']}/url", headers=team.outsider.headers), 404, "not_found")


def stored_bytes(world: World, file_id: str) -> bytes:
    files = world.api.settings.files
    if world.storage == "s3":
        client = boto3.client("s3", endpoint_url=files.s3_endpoint_url, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        return bytes(client.get_object(Bucket=files.s3_bucket, Key=file_id)["Body"].read())
    return (world.api.settings.data_dir / "files" / file_id[-2:] / file_id).read_bytes()


def httpx_time(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()


async def test_the_uploader_or_an_owner_deletes(world: World) -> None:
    team, client = world.team, world.api.client
    file = await world.uploaded(team.bob, TEXT)
    assert_problem(await client.delete(f"{FILES}/{file['id']}", headers=team.carol.headers), 403,
                   "permission_denied")
    assert (await client.delete(f"{FILES}/{file['id']}", headers=team.bob.headers)).status_code == 204
    assert_problem(await client.get(f"{FILES}/{file['id']}/content", headers=team.bob.headers), 404, "not_found")
    other = await world.uploaded(team.carol, TEXT)
    assert (await client.delete(f"{FILES}/{other['id']}", headers=team.owner.headers)).status_code == 204


async def test_messages_carry_readable_files_of_the_threads_organization_only(world: World) -> None:
    team, client = world.team, world.api.client
    thread = await team.thread(team.bob, team.carol.id)
    file = await world.uploaded(team.bob, TEXT)
    sent = await team.send(team.bob, thread["id"], "see attached", file_ids=[file["id"]])
    assert sent.status_code == 201, sent.text
    assert sent.json()["file_ids"] == [file["id"]]
    [message] = [m for m in await team.messages(team.carol, thread["id"]) if m["id"] == sent.json()["id"]]
    assert message["file_ids"] == [file["id"]]

    # a file of another organization, or none at all: refused, and nothing is sent
    elsewhere_org = await world.api.organization(team.outsider)
    foreign = await client.post(FILES, headers=team.outsider.headers, params={"organization_id": elsewhere_org["id"]},
                                files={"file": ("x.txt", TEXT, "text/plain")})
    assert foreign.status_code == 201, foreign.text
    for bad in (foreign.json()["id"], str(uuid.uuid4())):
        refused = await team.send(team.bob, thread["id"], "nope", file_ids=[bad])
        assert_problem(refused, 400, "invalid_argument")
    assert [m["body"] for m in await team.messages(team.bob, thread["id"])] == ["see attached"]


async def test_concurrent_messages_may_carry_the_same_file(world: World) -> None:
    team = world.team
    thread = await team.thread(team.bob, team.carol.id)
    file = await world.uploaded(team.bob, TEXT)
    sent = await asyncio.gather(*(team.send(sender, thread["id"], f"again {i}", file_ids=[file["id"]])
                                  for i, sender in enumerate([team.bob, team.carol] * 3)))
    assert [r.status_code for r in sent] == [201] * 6, [r.text for r in sent]
    assert len(await team.messages(team.carol, thread["id"])) == 6
