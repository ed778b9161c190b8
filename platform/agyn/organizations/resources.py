"""Organizations and memberships in the registry (their storage and endpoints are this module's own)."""

from agyn.kit.resources import (
    REGISTRY,
    DataSource,
    Field,
    Kind,
    Resource,
    enum,
    organization_id,
    reference,
    string,
)

ORGANIZATION = REGISTRY.register(Resource(
    name="organization",
    collection="organizations",
    description="An organization: the tenancy boundary that owns members, agents, models, secrets and apps.",
    fields=(
        string("name", "Unique name of the organization.", required=True, min_length=1, max_length=100),
    ),
    storage="custom",
    scope=None,
    data_source=DataSource(lookup=(), optional_lookup=("id", "name")),
))

MEMBERSHIP = REGISTRY.register(Resource(
    name="membership",
    collection="memberships",
    description="An identity's role in an organization. A cluster admin's grant is active at once; an owner's "
                "is an invitation, pending until the invitee accepts.",
    fields=(
        organization_id("The organization.", on_delete="cascade"),
        reference("identity_id", "identities", "The member's identity (user, agent, app).", required=True,
                  immutable=True, filterable=True, on_delete="cascade", same_organization=False),
        enum("role", "owner or member.", ("owner", "member"), default="member"),
        Field("status", Kind.enum, "pending until the invitee accepts; active after.", computed=True,
              choices=("pending", "active"), filterable=True),
    ),
    storage="custom",
    scope=None,
))
