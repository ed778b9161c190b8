"""Secret providers and secrets: the collections, and resolving a secret to its value (internal only)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agyn.kit.collections import CollectionService
from agyn.kit.crypto import CryptoError
from agyn.kit.errors import FailedPrecondition, NotFound
from agyn.secrets.models import Secret, SecretProvider
from agyn.secrets.resources import SECRET, SECRET_PROVIDER
from agyn.secrets.schemas import SecretProviderSchemas, SecretSchemas
from agyn.secrets.vault import KVReference, VaultError, read_kv2


class SecretUnavailable(FailedPrecondition):
    """A secret exists but its value cannot be had now (its provider refused or is unreachable, the
    key it was encrypted with is not configured)."""


class SecretProvidersService(CollectionService):
    resource = SECRET_PROVIDER
    model = SecretProvider
    schemas = SecretProviderSchemas

    async def read(self, provider: Any, reference: str) -> str:
        """The value at `reference` in this provider's store."""
        try:
            token = self.decrypt(provider, "vault", "token")
            return await read_kv2(provider.vault["address"], token, KVReference.parse(reference))
        except (VaultError, CryptoError) as error:
            raise SecretUnavailable(f"secret provider {provider.name!r} ({provider.id}): {error}") from None


class SecretsService(CollectionService):
    resource = SECRET
    model = Secret
    schemas = SecretSchemas

    async def resolve(self, session: AsyncSession, secret_id: uuid.UUID) -> str:
        """The plain value of a secret, for the platform's own use (workload ENVs, LLM credentials);
        never exposed over HTTP."""
        secret = await session.get(Secret, secret_id)
        if secret is None:
            raise NotFound(f"secret {secret_id} not found")
        if secret.value is not None:
            try:
                return str(self.decrypt(secret, "value"))
            except CryptoError as error:
                raise SecretUnavailable(f"secret {secret.name!r} ({secret.id}): {error}") from None
        provider = await session.get_one(SecretProvider, secret.provider_id)  # kept by the restrict reference
        providers = self.platform.get(SecretProvidersService)
        try:
            return await providers.read(provider, secret.reference)
        except SecretUnavailable as error:
            raise SecretUnavailable(f"secret {secret.name!r} ({secret.id}) from {error.detail}") from None


