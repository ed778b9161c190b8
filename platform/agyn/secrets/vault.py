"""Reading one value from HashiCorp Vault's KV v2 secrets engine over its HTTP API.

A secret's reference `<mount>/<path>/<key>` names the engine's mount, the secret's path in it
(which may contain slashes) and the key of the value inside the secret's data. The token travels
only in the `X-Vault-Token` header and never appears in an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

import httpx

TIMEOUT_SECONDS = 10.0


class VaultError(Exception):
    """The value cannot be read; the message says why, for an operator."""


@dataclass(frozen=True)
class KVReference:
    mount: str
    path: str
    key: str

    @classmethod
    def parse(cls, reference: str) -> KVReference:
        mount, _, rest = reference.partition("/")
        path, _, key = rest.rpartition("/")
        if not (mount and path and key):
            raise VaultError(f"reference {reference!r} is not in the format <mount>/<path>/<key>")
        return cls(mount, path, key)

    @property
    def api_path(self) -> str:
        return f"/v1/{quote(self.mount, safe='')}/data/{quote(self.path)}"

    def __str__(self) -> str:
        return f"{self.mount}/{self.path}/{self.key}"


async def read_kv2(address: str, token: str, reference: KVReference, *, timeout: float = TIMEOUT_SECONDS) -> str:
    """The value at `reference` in the latest version of the secret (strings as they are, other
    JSON values as JSON text)."""
    url = address.rstrip("/") + reference.api_path
    try:
        # redirects are not followed: the token would go along to wherever they point
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(url, headers={"X-Vault-Token": token})
    except httpx.TimeoutException:
        raise VaultError(f"Vault at {address} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as error:
        raise VaultError(f"Vault at {address} is unreachable: {str(error) or type(error).__name__}") from None
    where = f"{reference.mount}/{reference.path} (KV v2 mount {reference.mount!r}, path {reference.path!r})"
    if response.status_code == 403:
        raise VaultError(f"Vault at {address} refused the provider's token (403 permission denied) for {where}: "
                         "check that the token is valid and its policy allows reading it")
    if response.status_code == 404:
        raise VaultError(f"Vault at {address} has no secret {where}, or its latest version is deleted")
    if response.status_code != 200:
        raise VaultError(f"Vault at {address} answered {response.status_code} for {where}{_vault_errors(response)}")
    try:
        data = response.json()["data"]["data"]
    except (ValueError, KeyError, TypeError):
        raise VaultError(f"Vault at {address} answered for {where} with something other than a KV v2 secret; "
                         "is the mount a KV version 2 engine?") from None
    if not isinstance(data, dict) or reference.key not in data:
        keys = ", ".join(sorted(data)) if isinstance(data, dict) and data else "none"
        raise VaultError(f"the Vault secret {where} has no key {reference.key!r} (its keys: {keys})")
    value = data[reference.key]
    return value if isinstance(value, str) else json.dumps(value)


def _vault_errors(response: httpx.Response) -> str:
    """Vault's own reasons (`{"errors": [...]}`), e.g. that it is sealed."""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return ""
    reasons = "; ".join(str(e) for e in errors)[:300]
    return f": {reasons}" if reasons else ""
