"""Runners, as declared once for the API, Terraform and the CDK."""

from agyn.kit.resources import (
    REGISTRY,
    DataSource,
    Resource,
    organization_id,
    string,
    string_list,
    string_map,
)

RUNNER = REGISTRY.register(Resource(
    name="runner",
    collection="runners",
    description="A place where agent workloads run: cluster-wide, or one organization's own. The runner is an "
                "identity (its id is its identity id) that authenticates with its service token.",
    fields=(
        organization_id("The organization it serves; omit for a cluster-wide runner (cluster admins only).",
                        required=False),
        string("name", "A name for people; unique among the organization's (or the cluster-wide) runners.",
               required=True, min_length=1, max_length=100, filterable=True),
        string_map("labels", "Labels agents select runners by (an agent's runner_labels must all match).",
                   default={}),
        string_list("capabilities", "What it offers, e.g. docker or gpu (an agent's capabilities must all be "
                    "offered).", default=[]),
        string("service_token", "The runner's API token. Returned only when the runner is created; store it then.",
               computed=True, sensitive=True, once=True),
    ),
    unique_together=(("organization_id", "name"),),
    data_source=DataSource(lookup=("name",), optional_lookup=("organization_id",)),
))
