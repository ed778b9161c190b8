"""`stacks/bootstrap` synthesizes under cdktf and cdktn, with its default file (a k3d cluster) and with
production-like settings, and every Kubernetes object in the result passes the Kubernetes OpenAPI
schema (strict: an unknown field is an error). The settings that matter are asserted one by one.

The kubernetes provider binary comes from the public registry, which is out of reach here, so the
stack is synthesized only (no `terraform validate` / `apply`; see docs/kubernetes.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.cdk.support import BOOTSTRAP, copy_app, run_app, synth

KUBERNETES_VERSION = "1.34.0"  # k3s' current line; the objects use nothing newer than 1.29
VARIANTS = [("cdktf", "bootstrap.yaml"), ("cdktn", "bootstrap.yaml"), ("cdktf", "production.yaml"),
            ("cdktn", "production.yaml")]


@pytest.fixture(scope="module")
def synthesize(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], dict[str, Any]]:
    """The app run as people do (`python main.py`), once per framework and file in this module."""
    done: dict[tuple[str, str], dict[str, Any]] = {}

    def run(framework: str, file: str) -> dict[str, Any]:
        if (framework, file) not in done:
            app = copy_app(BOOTSTRAP, tmp_path_factory.mktemp("bootstrap") / "app")
            document = synth(app, "bootstrap", AGYN_CDK_FRAMEWORK=framework, BOOTSTRAP_FILE=file)
            assert document["//"]["metadata"]["version"] == {"cdktf": "0.21.0", "cdktn": "0.24.0"}[framework]
            done[framework, file] = {**document, "variant": (framework, file)}
        return done[framework, file]
    return run


@pytest.fixture(scope="module", params=VARIANTS, ids=[f"{f}-{n.removesuffix('.yaml')}" for f, n in VARIANTS])
def synthesized(request: pytest.FixtureRequest, synthesize: Callable[[str, str], dict[str, Any]]) -> dict[str, Any]:
    return synthesize(*request.param)


def manifests(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in document["resource"]["kubernetes_manifest"].items()}


def find(document: dict[str, Any], kind: str, name: str) -> tuple[str, dict[str, Any]]:
    """A resource's Terraform address and its resource block, by the object's kind and name."""
    found = [(f"kubernetes_manifest.{address}", resource) for address, resource in manifests(document).items()
             if resource["manifest"]["kind"] == kind and resource["manifest"]["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {[a for a, _ in found]}"
    return found[0]


def obj(document: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    return find(document, kind, name)[1]["manifest"]


def production(document: dict[str, Any]) -> bool:
    return bool(document["variant"][1] == "production.yaml")


def test_every_object_passes_the_kubernetes_schema(synthesized: dict[str, Any]) -> None:
    objects = [r["manifest"] for r in manifests(synthesized).values()]
    assert len(objects) >= 25
    for item in objects:
        kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)  # raises on any schema error
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Secret", "Deployment", "Job",
            "Service", "PodDisruptionBudget", "Ingress"} <= kinds
    assert "ClusterRole" not in kinds and "ClusterRoleBinding" not in kinds  # namespaced rights only


def test_the_schema_check_catches_a_wrong_field(synthesized: dict[str, Any]) -> None:
    """The validation above is not vacuous: a misspelt or mistyped field fails it."""
    deployment = obj(synthesized, "Deployment", "agyn-api")
    misspelt = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)
    mistyped = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(mistyped, KUBERNETES_VERSION, strict=True)


def test_the_api_deployment(synthesized: dict[str, Any]) -> None:
    namespace = "agyn-prod" if production(synthesized) else "agyn"
    api = obj(synthesized, "Deployment", "agyn-api")
    assert api["metadata"]["namespace"] == namespace
    assert api["spec"]["replicas"] == (3 if production(synthesized) else 1)
    assert api["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    pod = api["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"] == ["serve"]
    assert container["image"] == ("ghcr.io/agynio/agyn:0.1.0" if production(synthesized) else "agyn:0.1.0")
    assert container["ports"] == [{"containerPort": 8080, "name": "http"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert {"name": "AGYN_ORCHESTRATOR__ENABLED", "value": "false"} in container["env"]
    assert container["resources"]["requests"] == (
        {"cpu": "1", "memory": "1Gi"} if production(synthesized) else {"cpu": "250m", "memory": "512Mi"})
    assert container["resources"]["limits"]["memory"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert pod["serviceAccountName"] == "agyn-api"
    labels = api["spec"]["template"]["metadata"]["labels"]
    for selector in (api["spec"]["selector"]["matchLabels"],
                     obj(synthesized, "PodDisruptionBudget", "agyn-api")["spec"]["selector"]["matchLabels"],
                     obj(synthesized, "Service", "agyn-api")["spec"]["selector"]):
        assert selector.items() <= labels.items()
    assert obj(synthesized, "PodDisruptionBudget", "agyn-api")["spec"]["maxUnavailable"] == 1


def test_the_migration_job_runs_before_the_platform(synthesized: dict[str, Any]) -> None:
    address, job = find(synthesized, "Job", "agyn-migrate-0-1-0")
    [container] = job["manifest"]["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade"]
    assert job["wait"] == {"condition": [{"status": "True", "type": "Complete"}]}  # Terraform waits for it
    for name in ("agyn-api", "agyn-orchestrator", "agyn-runner"):
        assert address in find(synthesized, "Deployment", name)[1]["depends_on"], name
    settings, _ = find(synthesized, "Secret", "agyn-settings")
    assert settings in job["depends_on"]
    if not production(synthesized):  # the in-cluster database is up before the Job
        postgres_address, postgres = find(synthesized, "StatefulSet", "agyn-postgres")
        assert postgres_address in job["depends_on"] and postgres["wait"] == {"rollout": True}


def test_the_orchestrator_and_the_runner(synthesized: dict[str, Any]) -> None:
    orchestrator = obj(synthesized, "Deployment", "agyn-orchestrator")
    assert orchestrator["spec"]["replicas"] == (2 if production(synthesized) else 1)
    [container] = orchestrator["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["orchestrator"]
    assert {"name": "AGYN_ORCHESTRATOR__CHANNEL_PORT", "value": "8081"} in container["env"]
    # only the leader listens on the channel: ready alone, the Service's one endpoint
    assert container["readinessProbe"]["tcpSocket"] == {"port": "channel"}
    assert orchestrator["spec"]["strategy"] == {"type": "Recreate"}  # a standby never becomes ready
    assert orchestrator["spec"]["template"]["spec"]["serviceAccountName"] == "agyn-orchestrator"
    service = obj(synthesized, "Service", "agyn-orchestrator")
    assert service["spec"]["ports"] == [{"name": "channel", "port": 80, "targetPort": "channel"}]
    assert service["spec"]["selector"].items() <= orchestrator["spec"]["template"]["metadata"]["labels"].items()

    namespace = "agyn-prod" if production(synthesized) else "agyn"
    runner_namespace = "agyn-prod-workloads" if production(synthesized) else "agyn-workloads"
    runner = obj(synthesized, "Deployment", "agyn-runner")
    assert runner["spec"]["replicas"] == 1 and runner["spec"]["strategy"] == {"type": "Recreate"}
    [container] = runner["spec"]["template"]["spec"]["containers"]
    assert container["args"][:4] == ["runner", "serve", "--kind", "kubernetes"]
    assert container["args"][4:6] == ["--platform-url", f"http://agyn-orchestrator.{namespace}.svc.cluster.local"]
    env = {e["name"]: e for e in container["env"]}
    assert env["AGYN_RUNNER_TOKEN"]["valueFrom"] == {"secretKeyRef": {"key": "token", "name": "agyn-runner-token"}}
    assert env["AGYN_KUBERNETES__NAMESPACE"]["value"] == runner_namespace
    settings = obj(synthesized, "ConfigMap", "agyn-settings")["data"]
    assert settings["AGYN_RUNNER__EMBEDDED"] == "false"
    assert settings["AGYN_RUNNER__PLATFORM_URL"] == f"http://agyn-api.{namespace}.svc.cluster.local"


def rules(document: dict[str, Any], name: str) -> tuple[str, dict[tuple[str, ...], list[str]]]:
    role = obj(document, "Role", name)
    return role["metadata"]["namespace"], {
        (*r["apiGroups"], *r["resources"], *r.get("resourceNames", [])): r["verbs"] for r in role["rules"]}


def test_rbac_grants_each_part_only_what_it_does(synthesized: dict[str, Any]) -> None:
    namespace = "agyn-prod" if production(synthesized) else "agyn"
    runner_namespace = "agyn-prod-workloads" if production(synthesized) else "agyn-workloads"
    assert rules(synthesized, "agyn-runner") == (runner_namespace, {
        ("", "pods"): ["get", "list", "watch", "create", "delete"],
        ("", "pods/log"): ["get"],
        ("", "secrets"): ["get", "list", "create", "update", "delete"],
        ("", "persistentvolumeclaims"): ["get", "list", "watch", "create", "delete"]})
    assert rules(synthesized, "agyn-orchestrator") == (namespace, {
        ("coordination.k8s.io", "leases"): ["get", "list", "watch", "create", "update", "patch"]})
    assert rules(synthesized, "agyn-admin-token") == (namespace, {  # that one Secret, nothing else
        ("", "secrets", "agyn-admin-token"): ["get", "patch", "update"]})
    for name, accounts in [("agyn-runner", ["agyn-runner"]), ("agyn-orchestrator", ["agyn-orchestrator"]),
                           ("agyn-admin-token", ["agyn-api", "agyn-orchestrator"])]:
        binding = obj(synthesized, "RoleBinding", name)
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": a, "namespace": namespace} for a in accounts]
    assert {o["manifest"]["metadata"]["name"] for o in manifests(synthesized).values()
            if o["manifest"]["kind"] == "Role"} == {"agyn-runner", "agyn-orchestrator", "agyn-admin-token"}
    migrate = obj(synthesized, "ServiceAccount", "agyn-migrate")
    assert migrate["automountServiceAccountToken"] is False  # the migration needs no Kubernetes API


def test_secrets_come_from_sensitive_variables_only(synthesized: dict[str, Any]) -> None:
    variables = synthesized["variable"]
    assert all(v["sensitive"] is True for v in variables.values())
    settings = obj(synthesized, "Secret", "agyn-settings")["stringData"]
    assert settings["AGYN_ENCRYPTION_KEY"] == "${var.encryption_key}"
    if production(synthesized):
        assert set(variables) == {"encryption_key", "database_url", "redis_url", "openfga_datastore_uri"}
        assert settings["AGYN_DATABASE_URL"] == "${var.database_url}"
        assert settings["AGYN_REDIS_URL"] == "${var.redis_url}"
    else:
        assert set(variables) == {"encryption_key", "postgres_password"}
        assert settings["AGYN_DATABASE_URL"] == ("postgresql://agyn:${urlencode(var.postgres_password)}"
                                                 "@agyn-postgres.agyn.svc.cluster.local:5432/agyn")
        assert settings["AGYN_REDIS_URL"] == "redis://agyn-redis.agyn.svc.cluster.local:6379/0"
    for resource in manifests(synthesized).values():  # no value of a secret anywhere but in a Secret
        if resource["manifest"]["kind"] != "Secret":
            assert "${var." not in str(resource["manifest"])
    _, token = find(synthesized, "Secret", "agyn-admin-token")
    assert "data" not in token["manifest"] and "stringData" not in token["manifest"]
    assert "data" in token["computed_fields"]  # the platform fills it; Terraform does not undo that
    assert obj(synthesized, "ConfigMap", "agyn-settings")["data"]["AGYN_ADMIN_TOKEN_SECRET"].endswith(
        "/agyn-admin-token")


def test_the_ingress_keeps_long_streams_open(synthesized: dict[str, Any]) -> None:
    ingress = obj(synthesized, "Ingress", "agyn")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"  # SSE flushes each event
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"  # Socket.IO polling stays on a replica
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert path["backend"] == {"service": {"name": "agyn-api", "port": {"name": "http"}}}
    if production(synthesized):
        assert rule["host"] == "agyn.example.com" and ingress["spec"]["ingressClassName"] == "nginx"
        assert ingress["spec"]["tls"] == [{"hosts": ["agyn.example.com"], "secretName": "agyn-example-com-tls"}]
    else:
        assert rule["host"] == "agyn.localhost" and "tls" not in ingress["spec"]


def test_data_stores_in_the_cluster_or_outside(synthesized: dict[str, Any]) -> None:
    kinds = {(r["manifest"]["kind"], r["manifest"]["metadata"]["name"]) for r in manifests(synthesized).values()}
    if production(synthesized):
        assert ("StatefulSet", "agyn-postgres") not in kinds and ("Deployment", "agyn-redis") not in kinds
        openfga = obj(synthesized, "Deployment", "agyn-openfga")["spec"]["template"]["spec"]
        assert [c["args"] for c in openfga["initContainers"]] == [["migrate"]]
        _, job = find(synthesized, "Job", "agyn-openfga-model")
        [container] = job["manifest"]["spec"]["template"]["spec"]["containers"]
        assert container["command"][-6:] == ["model", "write", "--store-id", "01JD2Q4T6W8Y0A2C4E6G8J0K2M",
                                              "--file", "/model/model.fga"]
        assert ("Job", "agyn-openfga-store") not in kinds
        model = obj(synthesized, "ConfigMap", "agyn-openfga-model")["data"]["model.fga"]
        assert model.startswith("model\n") and "type organization" in model  # Agyn's model.fga
        settings = obj(synthesized, "ConfigMap", "agyn-settings")["data"]
        assert settings["AGYN_OPENFGA__STORE_ID"] == "01JD2Q4T6W8Y0A2C4E6G8J0K2M"
        assert settings["AGYN_OPENFGA__API_URL"] == "http://agyn-openfga.agyn-prod.svc.cluster.local:8080"
    else:
        postgres = obj(synthesized, "StatefulSet", "agyn-postgres")
        [claim] = postgres["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["resources"]["requests"] == {"storage": "5Gi"}
        assert ("Deployment", "agyn-redis") in kinds and ("Deployment", "agyn-openfga") not in kinds
        assert not any(k.startswith("AGYN_OPENFGA") for k in obj(synthesized, "ConfigMap", "agyn-settings")["data"])


@pytest.mark.parametrize("file", ["bootstrap.yaml", "production.yaml"])
def test_both_frameworks_declare_the_same_objects(synthesize: Callable[[str, str], dict[str, Any]], file: str) -> None:
    cdktf, cdktn = (synthesize(framework, file) for framework in ("cdktf", "cdktn"))
    assert cdktf["resource"] == cdktn["resource"] and cdktf["variable"] == cdktn["variable"]


def test_in_cluster_openfga_first_makes_the_store_then_the_platform(tmp_path: Path) -> None:
    """Until openfga.store_id is known only the data stores and OpenFGA are installed: the platform's first
    start writes relations, and they must land in the store it keeps using."""
    app = copy_app(BOOTSTRAP, tmp_path / "bootstrap")
    text = (app / "production.yaml").read_text()
    first = re.sub(r"\n  store_id: .*\n", "\n", text.replace("replicas: 3", "replicas: 1"))
    (app / "production.yaml").write_text(first)
    document = synth(app, "bootstrap", BOOTSTRAP_FILE="production.yaml")
    kinds = {(r["manifest"]["kind"], r["manifest"]["metadata"]["name"]) for r in manifests(document).values()}
    assert ("Deployment", "agyn-openfga") in kinds and ("Job", "agyn-openfga-store") in kinds
    assert not {("Deployment", "agyn-api"), ("Deployment", "agyn-orchestrator"), ("Deployment", "agyn-runner"),
                ("Job", "agyn-migrate-0-1-0"), ("Job", "agyn-openfga-model")} & kinds
    _, job = find(document, "Job", "agyn-openfga-store")
    [container] = job["manifest"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][-6:] == ["store", "create", "--name", "agyn", "--model", "/model/model.fga"]
    assert "job/agyn-openfga-store" in document["output"]["next_step"]["value"]
    for item in manifests(document).values():
        kubernetes_validate.validate(item["manifest"], KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(("change", "message"), [
    (("  replicas: 1\n", "  replica: 1\n"), "api.replica: unknown key"),
    (("namespace: agyn\n", "namespace: Agyn_Platform\n"), "namespace: String should match pattern"),
    (("  in_cluster: false ", "  in_cluster: false\n  store_id: abc "),
     "openfga.store_id is for the in-cluster OpenFGA (openfga.in_cluster: true)"),
    (("  replicas: 1\n", "  replicas: 2\n"), "api.replicas above 1 needs OpenFGA"),
])
def test_file_mistakes_are_one_line_each(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    app = copy_app(BOOTSTRAP, tmp_path / "bootstrap")
    text = (app / "bootstrap.yaml").read_text()
    assert change[0] in text
    (app / "bootstrap.yaml").write_text(text.replace(change[0], change[1], 1))
    result = run_app(app)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: {app / 'bootstrap.yaml'}: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not (app / "cdktf.out").exists()
