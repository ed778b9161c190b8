"""What `bootstrap.yaml` may say, checked before anything is synthesized (unknown keys and impossible
combinations are error lines naming their place, as in the tenant stack)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(Strict):
    cpu: str = Field(default="250m", pattern=QUANTITY, description="CPU requested per Pod.")
    memory: str = Field(default="512Mi", pattern=QUANTITY, description="Memory requested per Pod.")
    memory_limit: str = Field(default="1Gi", pattern=QUANTITY, description="Memory a Pod may use at most.")


class Api(Strict):
    replicas: int = Field(default=1, ge=1, le=100)
    resources: Resources = Resources()


class Orchestrator(Strict):
    replicas: int = Field(default=1, ge=1, le=5, description="One leads; the others wait to take over.")
    resources: Resources = Resources(cpu="100m", memory="256Mi", memory_limit="512Mi")


class Runner(Strict):
    namespace: str = Field(default="agyn-workloads", pattern=DNS_LABEL,
                           description="Where workload Pods, their Secrets and volume claims live.")
    token_secret: str = Field(default="agyn-runner-token", pattern=DNS_LABEL,
                              description="The Secret (key `token`) with the runner's service token.")
    resources: Resources = Resources(cpu="100m", memory="256Mi", memory_limit="512Mi")


class Postgres(Strict):
    external: bool = Field(default=False, description="Use the database at TF_VAR_database_url; otherwise a "
                                                      "StatefulSet here (password TF_VAR_postgres_password).")
    image: str = "postgres:16-alpine"
    storage: str = Field(default="5Gi", pattern=QUANTITY)


class Redis(Strict):
    external: bool = Field(default=False, description="Use the Redis at TF_VAR_redis_url; otherwise a Deployment "
                                                      "in the namespace (pub/sub only: no persistence).")
    image: str = "redis:7-alpine"


class OpenFGA(Strict):
    in_cluster: bool = Field(default=False, description="Run OpenFGA in the namespace (its own database) and write "
                                                        "Agyn's model with a Job; off: the embedded engine.")
    image: str = "openfga/openfga:v1.8.16"
    cli_image: str = "openfga/cli:v0.7.4"
    store_id: str | None = Field(default=None, description="The store the platform uses; the model Job's log names "
                                                           "the one it created.")
    model_id: str | None = None


class Ingress(Strict):
    host: str | None = Field(default=None, description="The public host name; no Ingress without one.")
    tls_secret: str | None = Field(default=None, pattern=DNS_LABEL,
                                   description="A TLS Secret for the host (e.g. made by cert-manager).")
    class_name: str | None = Field(default=None, description="The IngressClass; default: the cluster's default.")


class Bootstrap(Strict):
    namespace: str = Field(default="agyn", pattern=DNS_LABEL)
    image: str = Field(default="ghcr.io/agynio/agyn", min_length=1, description="The platform image (Dockerfile).")
    runtime_image: str = Field(default="ghcr.io/agynio/agyn-runtime", min_length=1,
                               description="The agent runtime image (images/runtime/Dockerfile).")
    tag: str = Field(default="0.1.0", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    pull_policy: str = Field(default="IfNotPresent", pattern=r"^(Always|IfNotPresent|Never)$")
    storage_class: str | None = Field(default=None, description="For PostgreSQL's and workloads' volume claims; "
                                                                "default: the cluster's.")
    admin_token_secret: str = Field(default="agyn-admin-token", pattern=DNS_LABEL,
                                    description="The Secret the first start writes the admin token into.")
    api: Api = Api()
    orchestrator: Orchestrator = Orchestrator()
    runner: Runner = Runner()
    postgres: Postgres = Postgres()
    redis: Redis = Redis()
    openfga: OpenFGA = OpenFGA()
    ingress: Ingress = Ingress()

    @field_validator("storage_class")
    @classmethod
    def _storage_class(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", value):
            raise ValueError("not a Kubernetes object name")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Bootstrap:
        if self.openfga.model_id and not self.openfga.store_id:
            raise ValueError("openfga.model_id needs openfga.store_id")
        if self.openfga.store_id and not self.openfga.in_cluster:
            raise ValueError("openfga.store_id is for the in-cluster OpenFGA (openfga.in_cluster: true)")
        if self.api.replicas > 1 and not self.openfga.store_id:
            # each process of the embedded engine holds its own copy of the relations
            raise ValueError("api.replicas above 1 needs OpenFGA: set openfga.in_cluster and, after the first "
                             "apply, openfga.store_id (the embedded authorization engine is per process)")
        return self
