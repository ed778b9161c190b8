"""Names of the objects and users of the authorization model (`model.fga`), built in one place."""

from __future__ import annotations

import uuid

from agyn.kit.access import object_name

CLUSTER = "cluster:global"


def identity(identity_id: uuid.UUID | str) -> str:
    return object_name("identity", identity_id)


def organization(organization_id: uuid.UUID | str) -> str:
    return object_name("organization", organization_id)


def agent(agent_id: uuid.UUID | str) -> str:
    return object_name("agent", agent_id)


def model(model_id: uuid.UUID | str) -> str:
    return object_name("model", model_id)


def thread(thread_id: uuid.UUID | str) -> str:
    return object_name("thread", thread_id)


def every(object_type: str) -> str:
    """The filter for objects of a type in a tuple read (`agent:` reads every agent's tuples)."""
    return f"{object_type}:"


def file(file_id: uuid.UUID | str) -> str:
    return object_name("file", file_id)
