"""LLM providers and models, as declared once for the API, Terraform and the CDK."""

from agyn.kit.resources import (
    REGISTRY,
    Condition,
    DataSource,
    Resource,
    enum,
    organization_id,
    reference,
    string,
    string_map,
    url,
)

LLM_PROVIDER = REGISTRY.register(Resource(
    name="llm_provider",
    collection="llm-providers",
    description="An upstream LLM provider: endpoint, protocol and credentials (encrypted at rest, write-only).",
    fields=(
        organization_id(),
        string("name", "A name for people; unique in the organization when set.", max_length=100, filterable=True),
        url("endpoint", "Base URL of the provider's API, e.g. https://api.openai.com/v1.", required=True,
            max_length=2048),
        enum("protocol", "Wire protocol the provider speaks.", ("responses", "anthropic_messages"),
             default="responses"),
        enum("auth_method", "How requests authenticate: a bearer token, an x-api-key header, or custom headers.",
             ("bearer", "x_api_key", "custom_headers"), required=True),
        string("token", "The API key or token (bearer and x_api_key).", sensitive=True,
               max_length=4096),
        string_map("headers", "Headers sent with every request (custom_headers).", sensitive=True),
    ),
    conditions=(Condition("auth_method", ("bearer", "x_api_key"), require=("token",), forbid=("headers",)),
                Condition("auth_method", ("custom_headers",), require=("headers",), forbid=("token",))),
    unique_together=(("organization_id", "name"),),
    data_source=DataSource(lookup=("organization_id", "name")),
))

MODEL = REGISTRY.register(Resource(
    name="model",
    collection="models",
    description="A platform model name mapped to a provider and the provider's own model name.",
    fields=(
        organization_id(),
        string("name", "The name agents and clients use, e.g. gpt-4o; unique in the organization.",
               required=True, min_length=1, max_length=100, pattern=r"[A-Za-z0-9][A-Za-z0-9._:/-]*",
               pattern_message="use letters, digits and . _ : / - (starting with a letter or digit)"),
        reference("llm_provider_id", "llm-providers", "The provider that serves it.", required=True, immutable=True,
                  filterable=True),
        string("remote_name", "The model's name at the provider, e.g. gpt-4o-2024-08-06.", required=True,
               min_length=1, max_length=200),
    ),
    unique_together=(("organization_id", "name"),),
    data_source=DataSource(lookup=("organization_id", "name")),
))
