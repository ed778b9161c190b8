"""The bootstrap stack: the platform onto a Kubernetes cluster, from `bootstrap.yaml`.

    python main.py                              # synthesizes bootstrap.yaml into cdktf.out/stacks/bootstrap
    BOOTSTRAP_FILE=production.yaml python main.py

Objects are made with the official Kubernetes client's models (typed and checked when made) and declared
as `kubernetes_manifest` resources of the prebuilt provider bindings, so what Terraform applies is the
object itself. Runs on cdktf or cdktn (`agyn_cdk.cdk`); the bindings follow the framework.
"""

from __future__ import annotations

import os

# before jsii starts Node: the project runs on Node 20, and jsii would print its end-of-life banner
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import importlib
import sys
from pathlib import Path
from typing import Any

from config import Bootstrap
from constructs import Construct
from objects import Objects, SecretValues, plain

from agyn.authorization.engine import MODEL_FILE
from agyn_cdk import FRAMEWORK, cdk
from agyn_cdk.stack_file import synth_from_file

DEFAULT_FILE = Path(__file__).with_name("bootstrap.yaml")
BINDINGS = {"cdktf": "cdktf_cdktf_provider_kubernetes", "cdktn": "cdktn_provider_kubernetes"}[FRAMEWORK]
KubernetesProvider = importlib.import_module(f"{BINDINGS}.provider").KubernetesProvider
Manifest = importlib.import_module(f"{BINDINGS}.manifest").Manifest


class BootstrapStack(cdk.TerraformStack):
    """Namespaces, identities and RBAC, settings, data stores, the migration Job, then the platform."""

    def __init__(self, scope: Construct, id: str, config: Bootstrap) -> None:
        super().__init__(scope, id)
        # KUBE_CONFIG_PATH / KUBE_CTX (or in-cluster credentials) say which cluster when Terraform runs
        KubernetesProvider(self, "kubernetes")
        objects = Objects(config)
        namespaces = [self.manifest(ns) for ns in objects.namespaces()]
        after = {"depends_on": namespaces}

        for account in objects.service_accounts():
            self.manifest(account, **after)
        for role, binding in objects.roles():
            self.manifest(binding, depends_on=[*namespaces, self.manifest(role, **after)])

        values = self.secret_values(config)
        stores = [self.manifest(objects.settings(), **after), self.manifest(objects.settings_secret(values), **after)]
        # the platform fills the token in; Terraform keeps the Secret but not its data
        self.manifest(objects.admin_token_secret(), computed_fields=["data", "metadata.annotations",
                                                                     "metadata.labels"], **after)
        if not config.postgres.external:
            assert values.postgres_password is not None
            stores.append(self.manifest(objects.postgres_secret(values.postgres_password), **after))
            stores += [self.manifest(o, **after, **rolled_out(o)) for o in objects.postgres()]
        if not config.redis.external:
            stores += [self.manifest(o, **after, **rolled_out(o)) for o in objects.redis()]
        if config.openfga.in_cluster:
            assert values.openfga_datastore_uri is not None
            secret = self.manifest(objects.openfga_secret(values.openfga_datastore_uri), **after)
            *server, model_map, job = objects.openfga(MODEL_FILE.read_text())
            running = [self.manifest(o, depends_on=[*stores, secret]) for o in server]
            self.manifest(job, depends_on=[*running, self.manifest(model_map, **after)], wait=completed())

        if config.openfga.in_cluster and not config.openfga.store_id:
            # the platform's first start writes relations: it waits for the store it will use from then on
            cdk.TerraformOutput(self, "next_step", value=(
                f"kubectl -n {config.namespace} logs job/agyn-openfga-store names the store: put its id in "
                "openfga.store_id, synthesize and apply again to install the platform"))
            return
        self.platform(config, objects, stores, namespaces)

        cdk.TerraformOutput(self, "namespace", value=config.namespace)
        cdk.TerraformOutput(self, "api_url", value=f"https://{config.ingress.host}" if config.ingress.tls_secret else
                            f"http://{config.ingress.host}" if config.ingress.host else objects.api_url)
        cdk.TerraformOutput(self, "admin_token_command", value=(
            f"kubectl -n {config.namespace} get secret {config.admin_token_secret} "
            "-o jsonpath='{.data.token}' | base64 -d"))

    def platform(self, config: Bootstrap, objects: Objects, stores: list[Any], namespaces: list[Any]) -> None:
        """The migration Job, then the API, the orchestrator and the runner."""
        after = {"depends_on": namespaces}
        # the schema is current before any process of the new version starts
        migrated = self.manifest(objects.migration_job(), depends_on=stores, wait=completed(),
                                 timeouts={"create": "15m", "update": "15m"})
        self.manifest(objects.api_deployment(), depends_on=[migrated])
        self.manifest(objects.api_disruption_budget(), **after)
        self.manifest(objects.api_service(), **after)
        ingress = objects.ingress()
        if ingress is not None:
            self.manifest(ingress, **after)
        self.manifest(objects.orchestrator_deployment(), depends_on=[migrated])
        self.manifest(objects.orchestrator_service(), **after)
        self.manifest(objects.runner_deployment(), depends_on=[migrated])

    def manifest(self, obj: Any, **options: Any) -> Any:
        """A `kubernetes_manifest` of the object, named by its kind, namespace and name."""
        body = plain(obj)
        metadata = body["metadata"]
        id = "-".join(p for p in (body["kind"].lower(), metadata.get("namespace"), metadata["name"]) if p)
        return Manifest(self, id, manifest=body, **options)

    def secret_values(self, config: Bootstrap) -> SecretValues:
        def variable(name: str, description: str) -> str:
            return str(cdk.TerraformVariable(self, name, type="string", sensitive=True,
                                             description=f"{description} (TF_VAR_{name})").string_value)

        encryption_key = variable("encryption_key", "base64 of 32 random bytes: the key of secrets at rest, "
                                                    "shared by every replica (openssl rand -base64 32)")
        postgres_password = database_url = openfga_datastore_uri = None
        if config.postgres.external:
            database_url = variable("database_url", "the platform's PostgreSQL URL, postgresql://user:pw@host/db")
            if config.openfga.in_cluster:
                openfga_datastore_uri = variable("openfga_datastore_uri", "OpenFGA's own PostgreSQL database, "
                                                                          "postgres://user:pw@host/openfga")
        else:
            postgres_password = variable("postgres_password", "the in-cluster PostgreSQL's password")
            server = (f"agyn:{cdk.Fn.urlencode(postgres_password)}"
                      f"@agyn-postgres.{config.namespace}.svc.cluster.local:5432")
            database_url = f"postgresql://{server}/agyn"
            if config.openfga.in_cluster:
                openfga_datastore_uri = f"postgres://{server}/openfga"
        if config.redis.external:
            redis_url = variable("redis_url", "the Redis the replicas share, redis://host:6379/0")
        else:
            redis_url = f"redis://agyn-redis.{config.namespace}.svc.cluster.local:6379/0"
        return SecretValues(encryption_key=encryption_key, database_url=database_url, redis_url=redis_url,
                            openfga_datastore_uri=openfga_datastore_uri, postgres_password=postgres_password)


def rolled_out(obj: Any) -> dict[str, Any]:
    """For a data store's Deployment or StatefulSet: Terraform waits until its Pods are ready."""
    return {"wait": {"rollout": True}} if obj.kind in ("Deployment", "StatefulSet") else {}


def completed() -> dict[str, Any]:
    """Terraform waits until the Job has completed, so what depends on it starts after."""
    return {"condition": [{"type": "Complete", "status": "True"}]}


def main() -> int:
    return synth_from_file(Bootstrap, Path(os.environ.get("BOOTSTRAP_FILE", DEFAULT_FILE)),
                           lambda app, config: BootstrapStack(app, "bootstrap", config))


if __name__ == "__main__":
    sys.exit(main())
