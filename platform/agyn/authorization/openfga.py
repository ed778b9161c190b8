"""The production authorization backend: an OpenFGA server through the official `openfga-sdk`.

Chosen by configuration (`AGYN_OPENFGA__API_URL`, store and model ids); the model it runs is the same
`model.fga`, converted to the API's JSON by our own parser (the `fga` binary is a dev-only tool).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from openfga_sdk import (
    ClientConfiguration,
    CreateStoreRequest,
    OpenFgaClient,
    ReadRequestTupleKey,
)
from openfga_sdk.client.models import (
    ClientBatchCheckItem,
    ClientBatchCheckRequest,
    ClientCheckRequest,
    ClientListObjectsRequest,
    ClientTuple,
    ClientWriteRequest,
    ClientWriteRequestOnDuplicateWrites,
    ClientWriteRequestOnMissingDeletes,
    ConflictOptions,
)
from openfga_sdk.credentials import CredentialConfiguration, Credentials
from openfga_sdk.exceptions import OpenApiException, ValidationException

from agyn.authorization import dsl
from agyn.authorization.backends import check_write_request, validate_read_filter
from agyn.authorization.engine import (
    MODEL_FILE,
    AuthorizationError,
    InvalidTupleError,
    TupleKey,
)

if TYPE_CHECKING:
    from agyn.settings import OpenFGASettings

MAX_TUPLES_PER_WRITE = 100  # OpenFGA's default limit for one Write call
READ_PAGE_SIZE = 100  # the largest page OpenFGA's Read serves
_IDEMPOTENT = {
    "conflict": ConflictOptions(
        on_duplicate_writes=ClientWriteRequestOnDuplicateWrites.IGNORE,
        on_missing_deletes=ClientWriteRequestOnMissingDeletes.IGNORE,
    )
}


class OpenFGAError(AuthorizationError):
    """The OpenFGA server could not be reached or failed a request for a reason other than bad input."""


@asynccontextmanager
async def _translate_errors(action: str) -> AsyncIterator[None]:
    """Give callers the package's errors: bad input is `InvalidTupleError`, the rest `OpenFGAError`."""
    try:
        yield
    except ValidationException as exc:
        raise InvalidTupleError(f"{action}: {exc.error_message}") from exc
    except (TimeoutError, OpenApiException, aiohttp.ClientError) as exc:
        raise OpenFGAError(f"{action}: OpenFGA request failed: {exc}") from exc


class OpenFGABackend:
    """`AuthorizationBackend` over one OpenFGA store and authorization model.

    Without `model_id` the server uses the store's latest model. The SDK client (and its aiohttp
    session) is opened on first use, so the backend can be built before the event loop runs.
    """

    def __init__(self, api_url: str, store_id: str, model_id: str | None = None, api_token: str | None = None) -> None:
        self._configuration = ClientConfiguration(
            api_url=api_url,
            store_id=store_id,
            authorization_model_id=model_id,
            credentials=_credentials(api_token),
        )
        self._sdk: OpenFgaClient | None = None

    @classmethod
    def from_settings(cls, settings: OpenFGASettings) -> OpenFGABackend:
        """The backend the platform's `AGYN_OPENFGA__*` settings describe."""
        if not settings.api_url or not settings.store_id:
            raise ValueError(
                "the OpenFGA backend needs api_url and store_id (AGYN_OPENFGA__API_URL, AGYN_OPENFGA__STORE_ID); "
                "OpenFGABackend.create_store() makes a store with Agyn's model"
            )
        token = settings.api_token.get_secret_value() if settings.api_token else None
        return cls(settings.api_url, settings.store_id, settings.model_id, token)

    @property
    def _client(self) -> OpenFgaClient:
        if self._sdk is None:
            self._sdk = OpenFgaClient(self._configuration)
        return self._sdk

    @classmethod
    async def create_store(
        cls,
        api_url: str,
        name: str,
        model: dsl.AuthorizationModel | str | Path = MODEL_FILE,
        api_token: str | None = None,
    ) -> OpenFGABackend:
        """Create a store, upload the model (Agyn's `model.fga` by default) and return a backend on it.

        Its `store_id` and `model_id` are what the platform's OpenFGA settings need.
        """
        async with _translate_errors("create store"):
            configuration = ClientConfiguration(api_url=api_url, credentials=_credentials(api_token))
            async with OpenFgaClient(configuration) as client:
                store = await client.create_store(CreateStoreRequest(name=name))
        backend = cls(api_url, store.id, api_token=api_token)
        try:
            await backend.write_model(model)
        except BaseException:
            await backend.close()
            raise
        return backend

    @property
    def store_id(self) -> str:
        return self._configuration.store_id

    @property
    def model_id(self) -> str | None:
        return self._configuration.authorization_model_id

    async def write_model(self, model: dsl.AuthorizationModel | str | Path = MODEL_FILE) -> str:
        """Upload a new model version to the store and use it from now on; returns its id."""
        if not isinstance(model, dsl.AuthorizationModel):
            model = dsl.parse_file(model)
        async with _translate_errors("write authorization model"):
            # the SDK takes the model's JSON form as well as its request class
            response = await self._client.write_authorization_model(dsl.to_json(model))  # type: ignore[arg-type]
        self._configuration.authorization_model_id = response.authorization_model_id
        return response.authorization_model_id

    async def check(self, user: str, relation: str, object: str) -> bool:
        async with _translate_errors(f"check {object}#{relation}@{user}"):
            response = await self._client.check(ClientCheckRequest(user=user, relation=relation, object=object))
        return bool(response.allowed)

    async def batch_check(self, items: Sequence[TupleKey]) -> list[bool]:
        """One server-side BatchCheck (the SDK splits it into requests of 50); answers in item order."""
        if not items:
            return []
        request = ClientBatchCheckRequest(
            checks=[
                ClientBatchCheckItem(user=i.user, relation=i.relation, object=i.object, correlation_id=str(n))
                for n, i in enumerate(items)
            ]
        )
        async with _translate_errors("batch check"):
            response = await self._client.batch_check(request)
        answers: list[bool | None] = [None] * len(items)
        for result in response.result:
            index = int(result.correlation_id)
            if result.error is not None:
                failure = OpenFGAError if result.error.internal_error else InvalidTupleError
                raise failure(f"batch check {items[index]}: {result.error.message}")
            answers[index] = bool(result.allowed)
        if any(answer is None for answer in answers):
            raise OpenFGAError("batch check: the server did not answer every item")
        return answers  # type: ignore[return-value]

    async def write(self, writes: Sequence[TupleKey] = (), deletes: Sequence[TupleKey] = ()) -> None:
        """Idempotent writes and deletes, in calls of at most 100 tuples (each call atomic, writes first)."""
        check_write_request(writes, deletes)
        operations = [(True, k) for k in writes] + [(False, k) for k in deletes]
        for start in range(0, len(operations), MAX_TUPLES_PER_WRITE):
            chunk = operations[start : start + MAX_TUPLES_PER_WRITE]
            request = ClientWriteRequest(
                writes=[_client_tuple(k) for is_write, k in chunk if is_write] or None,
                deletes=[_client_tuple(k) for is_write, k in chunk if not is_write] or None,
            )
            async with _translate_errors("write tuples"):
                await self._client.write(request, dict(_IDEMPOTENT))  # type: ignore[arg-type]  # the SDK's options are a loose dict

    async def read(
        self, user: str | None = None, relation: str | None = None, object: str | None = None
    ) -> list[TupleKey]:
        """All matching tuples, following continuation tokens page by page."""
        validate_read_filter(user, relation, object)
        found: list[TupleKey] = []
        token: str | None = None
        while True:
            options: dict[str, Any] = {"page_size": READ_PAGE_SIZE}
            if token:
                options["continuation_token"] = token
            async with _translate_errors("read tuples"):
                response = await self._client.read(
                    ReadRequestTupleKey(user=user, relation=relation, object=object), options
                )
            found.extend(TupleKey(t.key.user, t.key.relation, t.key.object) for t in response.tuples or [])
            token = response.continuation_token
            if not token:
                return found

    async def list_objects(self, user: str, relation: str, object_type: str) -> list[str]:
        async with _translate_errors(f"list {object_type} objects {user} has {relation} on"):
            response = await self._client.list_objects(
                ClientListObjectsRequest(user=user, relation=relation, type=object_type)
            )
        return sorted(response.objects or [])

    async def close(self) -> None:
        if self._sdk is not None:
            await self._sdk.close()
            self._sdk = None


def _credentials(api_token: str | None) -> Credentials | None:
    if not api_token:
        return None
    return Credentials(method="api_token", configuration=CredentialConfiguration(api_token=api_token))


def _client_tuple(key: TupleKey) -> ClientTuple:
    return ClientTuple(user=key.user, relation=key.relation, object=key.object)
