"""Secret providers and secrets, as declared once for the API, Terraform and the CDK."""

from agyn.kit.resources import (
    REGISTRY,
    DataSource,
    Resource,
    enum,
    nested,
    organization_id,
    reference,
    string,
    url,
)

REFERENCE_PATTERN = r"[^/]+/.+/[^/]+"

SECRET_PROVIDER = REGISTRY.register(Resource(
    name="secret_provider",
    collection="secret-providers",
    description="An external secret store the platform reads secret values from (HashiCorp Vault, KV v2).",
    fields=(
        organization_id(),
        string("name", "A name for people; unique in the organization.", required=True, min_length=1,
               max_length=100, filterable=True),
        string("description", "What it is for.", max_length=1000),
        enum("type", "The kind of store.", ("vault",), required=True, immutable=True),
        nested("vault", "How to reach Vault: its address and a token allowed to read the secrets.", (
            url("address", "Vault's base URL, e.g. https://vault.example:8200.", required=True, max_length=2048),
            string("token", "A Vault token that can read the secrets.", required=True, sensitive=True,
                   min_length=1, max_length=4096),
        ), required=True),
    ),
    unique_together=(("organization_id", "name"),),
    data_source=DataSource(lookup=("organization_id", "name")),
))

SECRET = REGISTRY.register(Resource(
    name="secret",
    collection="secrets",
    description="A secret value: stored encrypted by the platform, or read from a secret provider when used.",
    fields=(
        organization_id(),
        string("name", "A name for people; unique in the organization.", required=True, min_length=1,
               max_length=100, filterable=True),
        string("description", "What it is for.", max_length=1000),
        string("value", "The value, stored encrypted (AES-256-GCM).", sensitive=True, min_length=1,
               max_length=65536),
        reference("provider_id", "secret-providers", "The secret provider holding the value.", filterable=True),
        string("reference", "Where the provider keeps the value: <mount>/<path>/<key> (Vault KV v2: the key "
                            "of the secret at path in the engine mounted at mount).", max_length=1024,
               pattern=REFERENCE_PATTERN, pattern_message="must be in the format <mount>/<path>/<key>"),
    ),
    exactly_one_of=(("value", "provider_id"),),
    required_together=(("provider_id", "reference"),),
    unique_together=(("organization_id", "name"),),
    data_source=DataSource(lookup=("organization_id", "name")),
))
