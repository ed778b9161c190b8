"""The platform's Kubernetes objects, built with the official client's models (`kubernetes.client`):
each field is checked by type when an object is made, so a mistake fails the synth, not the apply.

Secret values (Terraform references such as `${var.encryption_key}`) only ever go into Secrets'
`stringData`; every other field is a plain value known at synth time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from config import Bootstrap, Resources
from kubernetes import client as k

API_PORT = 8080
CHANNEL_PORT = 8081
DATA_DIR = "/var/lib/agyn"
USER_ID = 10001  # the Dockerfile's `agyn` user
SETTINGS = "agyn-settings"
ADMIN_TOKEN_KEY = "token"


@dataclass(frozen=True)
class SecretValues:
    """The Terraform references of the sensitive inputs (TF_VAR_<name> at deploy)."""

    encryption_key: str
    database_url: str
    redis_url: str
    openfga_datastore_uri: str | None
    postgres_password: str | None


def plain(obj: Any) -> dict[str, Any]:
    """The object as the Kubernetes API reads it (camelCase keys, no unset fields)."""
    result: dict[str, Any] = k.ApiClient().sanitize_for_serialization(obj)
    return result


class Objects:
    """Every object of one installation, by the file's settings."""

    def __init__(self, config: Bootstrap) -> None:
        self.config = config
        self.namespace = config.namespace
        self.api_url = f"http://agyn-api.{self.namespace}.svc.cluster.local"
        self.channel_url = f"http://agyn-orchestrator.{self.namespace}.svc.cluster.local"

    # -- shared pieces -------------------------------------------------------------------------------

    def labels(self, component: str) -> dict[str, str]:
        return {"app.kubernetes.io/name": "agyn", "app.kubernetes.io/component": component,
                "app.kubernetes.io/part-of": "agyn", "app.kubernetes.io/managed-by": "terraform",
                "app.kubernetes.io/version": self.config.tag}

    @staticmethod
    def selector(component: str) -> dict[str, str]:
        return {"app.kubernetes.io/name": "agyn", "app.kubernetes.io/component": component}

    def meta(self, name: str, component: str, namespace: str | None = None,
             annotations: dict[str, str] | None = None) -> k.V1ObjectMeta:
        return k.V1ObjectMeta(name=name, namespace=namespace or self.namespace, labels=self.labels(component),
                              annotations=annotations)

    @property
    def platform_image(self) -> str:
        return f"{self.config.image}:{self.config.tag}"

    @staticmethod
    def resources(resources: Resources) -> k.V1ResourceRequirements:
        return k.V1ResourceRequirements(requests={"cpu": resources.cpu, "memory": resources.memory},
                                        limits={"memory": resources.memory_limit})

    @staticmethod
    def hardened() -> k.V1SecurityContext:
        return k.V1SecurityContext(allow_privilege_escalation=False, read_only_root_filesystem=True,
                                   capabilities=k.V1Capabilities(drop=["ALL"]))

    @staticmethod
    def pod_security(user: int = USER_ID) -> k.V1PodSecurityContext:
        return k.V1PodSecurityContext(run_as_non_root=True, run_as_user=user, run_as_group=user, fs_group=user,
                                      seccomp_profile=k.V1SeccompProfile(type="RuntimeDefault"))

    def platform_container(self, name: str, args: list[str], resources: Resources,
                           env: list[k.V1EnvVar] | None = None, **fields: Any) -> k.V1Container:
        """The platform image running one `agyn` command, its settings from the ConfigMap and Secret."""
        return k.V1Container(
            name=name, image=self.platform_image, image_pull_policy=self.config.pull_policy, args=args,
            env_from=[k.V1EnvFromSource(config_map_ref=k.V1ConfigMapEnvSource(name=SETTINGS)),
                      k.V1EnvFromSource(secret_ref=k.V1SecretEnvSource(name=SETTINGS))],
            env=env, resources=self.resources(resources), security_context=self.hardened(),
            volume_mounts=[k.V1VolumeMount(name="data", mount_path=DATA_DIR),
                           k.V1VolumeMount(name="tmp", mount_path="/tmp")], **fields)

    def platform_pod(self, component: str, containers: list[k.V1Container], service_account: str,
                     restart_policy: str | None = None, spread: bool = False) -> k.V1PodTemplateSpec:
        affinity = None
        if spread:  # replicas on different nodes where the cluster has several
            affinity = k.V1Affinity(pod_anti_affinity=k.V1PodAntiAffinity(
                preferred_during_scheduling_ignored_during_execution=[k.V1WeightedPodAffinityTerm(
                    weight=100, pod_affinity_term=k.V1PodAffinityTerm(
                        topology_key="kubernetes.io/hostname",
                        label_selector=k.V1LabelSelector(match_labels=self.selector(component))))]))
        return k.V1PodTemplateSpec(
            metadata=k.V1ObjectMeta(labels=self.labels(component)),
            spec=k.V1PodSpec(
                service_account_name=service_account, security_context=self.pod_security(),
                containers=containers, restart_policy=restart_policy, affinity=affinity,
                volumes=[k.V1Volume(name="data", empty_dir=k.V1EmptyDirVolumeSource()),
                         k.V1Volume(name="tmp", empty_dir=k.V1EmptyDirVolumeSource())]))

    # -- namespaces, identities, RBAC ----------------------------------------------------------------

    def namespaces(self) -> list[k.V1Namespace]:
        names = dict.fromkeys([self.namespace, self.config.runner.namespace])
        return [k.V1Namespace(api_version="v1", kind="Namespace",
                              metadata=k.V1ObjectMeta(name=name, labels=self.labels("namespace")))
                for name in names]

    def service_accounts(self) -> list[k.V1ServiceAccount]:
        return [k.V1ServiceAccount(api_version="v1", kind="ServiceAccount", metadata=self.meta(f"agyn-{c}", c),
                                   automount_service_account_token=c != "migrate")
                for c in ("api", "orchestrator", "runner", "migrate")]

    def roles(self) -> list[tuple[k.V1Role, k.V1RoleBinding]]:
        """Each identity may do what its part does, in its namespace only."""
        runner_namespace = self.config.runner.namespace
        granted = {  # role: (namespace, rules, the service accounts bound to it)
            # whichever process starts first fills the admin token Secret (`agyn orchestrator` starts too)
            "agyn-admin-token": (self.namespace, [k.V1PolicyRule(
                api_groups=[""], resources=["secrets"], resource_names=[self.config.admin_token_secret],
                verbs=["get", "patch", "update"])], ["agyn-api", "agyn-orchestrator"]),
            "agyn-orchestrator": (self.namespace, [k.V1PolicyRule(
                api_groups=["coordination.k8s.io"], resources=["leases"],
                verbs=["get", "list", "watch", "create", "update", "patch"])], ["agyn-orchestrator"]),
            "agyn-runner": (runner_namespace, [
                k.V1PolicyRule(api_groups=[""], resources=["pods"],
                               verbs=["get", "list", "watch", "create", "delete"]),
                k.V1PolicyRule(api_groups=[""], resources=["pods/log"], verbs=["get"]),
                k.V1PolicyRule(api_groups=[""], resources=["secrets"],
                               verbs=["get", "list", "create", "update", "delete"]),
                k.V1PolicyRule(api_groups=[""], resources=["persistentvolumeclaims"],
                               verbs=["get", "list", "watch", "create", "delete"])], ["agyn-runner"]),
        }
        result = []
        for name, (namespace, rules, accounts) in granted.items():
            component = name.removeprefix("agyn-")
            role = k.V1Role(api_version="rbac.authorization.k8s.io/v1", kind="Role",
                            metadata=self.meta(name, component, namespace), rules=rules)
            binding = k.V1RoleBinding(
                api_version="rbac.authorization.k8s.io/v1", kind="RoleBinding",
                metadata=self.meta(name, component, namespace),
                role_ref=k.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=name),
                subjects=[k.RbacV1Subject(kind="ServiceAccount", name=account, namespace=self.namespace)
                          for account in accounts])
            result.append((role, binding))
        return result

    # -- settings ------------------------------------------------------------------------------------

    def settings(self) -> k.V1ConfigMap:
        data = {"AGYN_HOST": "0.0.0.0", "AGYN_PORT": str(API_PORT), "AGYN_DATA_DIR": DATA_DIR,
                "AGYN_LOG_FORMAT": "json",
                # the orchestrator hands workloads to the runner Deployment, which connects out to the API
                "AGYN_RUNNER__EMBEDDED": "false", "AGYN_RUNNER__PLATFORM_URL": self.api_url,
                "AGYN_ADMIN_TOKEN_SECRET": f"{self.namespace}/{self.config.admin_token_secret}"}
        openfga = self.config.openfga
        if openfga.in_cluster and openfga.store_id:
            data["AGYN_OPENFGA__API_URL"] = f"http://agyn-openfga.{self.namespace}.svc.cluster.local:8080"
            data["AGYN_OPENFGA__STORE_ID"] = openfga.store_id
            if openfga.model_id:
                data["AGYN_OPENFGA__MODEL_ID"] = openfga.model_id
        return k.V1ConfigMap(api_version="v1", kind="ConfigMap", metadata=self.meta(SETTINGS, "settings"), data=data)

    def settings_secret(self, values: SecretValues) -> k.V1Secret:
        return k.V1Secret(api_version="v1", kind="Secret", type="Opaque", metadata=self.meta(SETTINGS, "settings"),
                          string_data={"AGYN_DATABASE_URL": values.database_url, "AGYN_REDIS_URL": values.redis_url,
                                       "AGYN_ENCRYPTION_KEY": values.encryption_key})

    def admin_token_secret(self) -> k.V1Secret:
        """Empty until the platform's first start writes the cluster admin's token into it."""
        return k.V1Secret(api_version="v1", kind="Secret", type="Opaque",
                          metadata=self.meta(self.config.admin_token_secret, "api"))

    # -- the platform ---------------------------------------------------------------------------------

    def migration_job(self) -> k.V1Job:
        """`agyn db upgrade`, once per image tag (a Job's Pod template cannot change, so a new tag is a new Job)."""
        name = "agyn-migrate-" + re.sub(r"[^a-z0-9-]", "-", self.config.tag.lower()).strip("-")[:40]
        container = self.platform_container("migrate", ["db", "upgrade"], self.config.orchestrator.resources)
        return k.V1Job(api_version="batch/v1", kind="Job", metadata=self.meta(name, "migrate"),
                       spec=k.V1JobSpec(backoff_limit=6, template=self.platform_pod(
                           "migrate", [container], "agyn-migrate", restart_policy="OnFailure")))

    def api_deployment(self) -> k.V1Deployment:
        def probe(path: str, period: int, failures: int) -> k.V1Probe:
            return k.V1Probe(http_get=k.V1HTTPGetAction(path=path, port="http"), period_seconds=period,
                             timeout_seconds=3, failure_threshold=failures)

        container = self.platform_container(
            "api", ["serve"], self.config.api.resources,
            env=[k.V1EnvVar(name="AGYN_ORCHESTRATOR__ENABLED", value="false")],  # it runs in its own Deployment
            ports=[k.V1ContainerPort(name="http", container_port=API_PORT)],
            startup_probe=probe("/healthz", 2, 30), liveness_probe=probe("/healthz", 10, 3),
            readiness_probe=probe("/readyz", 5, 2))
        return k.V1Deployment(
            api_version="apps/v1", kind="Deployment", metadata=self.meta("agyn-api", "api"),
            spec=k.V1DeploymentSpec(
                replicas=self.config.api.replicas,
                selector=k.V1LabelSelector(match_labels=self.selector("api")),
                strategy=k.V1DeploymentStrategy(type="RollingUpdate", rolling_update=k.V1RollingUpdateDeployment(
                    max_unavailable=0, max_surge=1)),
                template=self.platform_pod("api", [container], "agyn-api", spread=True)))

    def api_disruption_budget(self) -> k.V1PodDisruptionBudget:
        return k.V1PodDisruptionBudget(
            api_version="policy/v1", kind="PodDisruptionBudget", metadata=self.meta("agyn-api", "api"),
            spec=k.V1PodDisruptionBudgetSpec(max_unavailable=1,
                                             selector=k.V1LabelSelector(match_labels=self.selector("api"))))

    def api_service(self) -> k.V1Service:
        return k.V1Service(api_version="v1", kind="Service", metadata=self.meta("agyn-api", "api"),
                           spec=k.V1ServiceSpec(selector=self.selector("api"), ports=[k.V1ServicePort(
                               name="http", port=80, target_port="http")]))

    def orchestrator_deployment(self) -> k.V1Deployment:
        """`agyn orchestrator`: every replica runs, one leads (PostgreSQL advisory lock, or a Lease with
        AGYN_ORCHESTRATOR__LEASE=kubernetes) and only the leader listens on the runner channel's port, so the
        readiness probe marks it alone ready and the Service reaches it alone."""
        container = self.platform_container(
            "orchestrator", ["orchestrator"], self.config.orchestrator.resources,
            env=[k.V1EnvVar(name="AGYN_ORCHESTRATOR__CHANNEL_PORT", value=str(CHANNEL_PORT))],
            ports=[k.V1ContainerPort(name="channel", container_port=CHANNEL_PORT)],
            readiness_probe=k.V1Probe(tcp_socket=k.V1TCPSocketAction(port="channel"), period_seconds=2,
                                      failure_threshold=1))
        return k.V1Deployment(
            api_version="apps/v1", kind="Deployment", metadata=self.meta("agyn-orchestrator", "orchestrator"),
            spec=k.V1DeploymentSpec(
                replicas=self.config.orchestrator.replicas,
                # a standby is never ready: a rolling update would wait for it forever
                strategy=k.V1DeploymentStrategy(type="Recreate"),
                selector=k.V1LabelSelector(match_labels=self.selector("orchestrator")),
                template=self.platform_pod("orchestrator", [container], "agyn-orchestrator", spread=True)))

    def orchestrator_service(self) -> k.V1Service:
        """The runner channel of the leading orchestrator (the only ready endpoint)."""
        return k.V1Service(api_version="v1", kind="Service", metadata=self.meta("agyn-orchestrator", "orchestrator"),
                           spec=k.V1ServiceSpec(selector=self.selector("orchestrator"), ports=[k.V1ServicePort(
                               name="channel", port=80, target_port="channel")]))

    def runner_deployment(self) -> k.V1Deployment:
        """`agyn runner serve --kind kubernetes`: one Pod per workload in the runner's namespace, its commands
        from the leading orchestrator's channel."""
        runner = self.config.runner
        env = [k.V1EnvVar(name="AGYN_RUNNER_TOKEN", value_from=k.V1EnvVarSource(
                   secret_key_ref=k.V1SecretKeySelector(name=runner.token_secret, key="token"))),
               k.V1EnvVar(name="AGYN_KUBERNETES__NAMESPACE", value=runner.namespace),
               k.V1EnvVar(name="AGYN_KUBERNETES__RUNTIME_IMAGE",
                          value=f"{self.config.runtime_image}:{self.config.tag}")]
        if self.config.storage_class:
            env.append(k.V1EnvVar(name="AGYN_KUBERNETES__STORAGE_CLASS", value=self.config.storage_class))
        container = self.platform_container(
            "runner", ["runner", "serve", "--kind", "kubernetes", "--platform-url", self.channel_url,
                       "--data-dir", f"{DATA_DIR}/runner"], runner.resources, env=env)
        return k.V1Deployment(
            api_version="apps/v1", kind="Deployment", metadata=self.meta("agyn-runner", "runner"),
            spec=k.V1DeploymentSpec(
                replicas=1, strategy=k.V1DeploymentStrategy(type="Recreate"),  # one connection per runner token
                selector=k.V1LabelSelector(match_labels=self.selector("runner")),
                template=self.platform_pod("runner", [container], "agyn-runner")))

    def ingress(self) -> k.V1Ingress | None:
        ingress = self.config.ingress
        if ingress.host is None:
            return None
        annotations = {
            # Socket.IO and SSE hold a request open for long; a replica keeps a polling client's session
            "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
            "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
            "nginx.ingress.kubernetes.io/proxy-buffering": "off",
            "nginx.ingress.kubernetes.io/proxy-body-size": "16m",
            "nginx.ingress.kubernetes.io/affinity": "cookie",
            "nginx.ingress.kubernetes.io/session-cookie-name": "agyn-route",
            "traefik.ingress.kubernetes.io/service.sticky.cookie": "true",
            "traefik.ingress.kubernetes.io/service.sticky.cookie.name": "agyn-route",
        }
        tls = [k.V1IngressTLS(hosts=[ingress.host], secret_name=ingress.tls_secret)] if ingress.tls_secret else None
        backend = k.V1IngressBackend(service=k.V1IngressServiceBackend(
            name="agyn-api", port=k.V1ServiceBackendPort(name="http")))
        return k.V1Ingress(
            api_version="networking.k8s.io/v1", kind="Ingress",
            metadata=self.meta("agyn", "api", annotations=annotations),
            spec=k.V1IngressSpec(ingress_class_name=ingress.class_name, tls=tls, rules=[k.V1IngressRule(
                host=ingress.host, http=k.V1HTTPIngressRuleValue(paths=[k.V1HTTPIngressPath(
                    path="/", path_type="Prefix", backend=backend)]))]))

    # -- data stores -----------------------------------------------------------------------------------

    def postgres(self) -> list[Any]:
        """A single-replica PostgreSQL for a cluster without a managed one (the OpenFGA database as well)."""
        postgres = self.config.postgres
        init = ["CREATE DATABASE openfga;"] if self.config.openfga.in_cluster else []
        config_map = k.V1ConfigMap(api_version="v1", kind="ConfigMap",
                                   metadata=self.meta("agyn-postgres-init", "postgres"),
                                   data={"init.sql": "\n".join(init) + "\n"})
        container = k.V1Container(
            name="postgres", image=postgres.image, image_pull_policy=self.config.pull_policy,
            env=[k.V1EnvVar(name="POSTGRES_USER", value="agyn"), k.V1EnvVar(name="POSTGRES_DB", value="agyn"),
                 k.V1EnvVar(name="POSTGRES_PASSWORD", value_from=k.V1EnvVarSource(
                     secret_key_ref=k.V1SecretKeySelector(name="agyn-postgres", key="password"))),
                 k.V1EnvVar(name="PGDATA", value="/var/lib/postgresql/data/pgdata")],
            ports=[k.V1ContainerPort(name="postgres", container_port=5432)],
            readiness_probe=k.V1Probe(_exec=k.V1ExecAction(command=["pg_isready", "-U", "agyn", "-d", "agyn"]),
                                      period_seconds=5),
            resources=k.V1ResourceRequirements(requests={"cpu": "100m", "memory": "256Mi"},
                                               limits={"memory": "1Gi"}),
            volume_mounts=[k.V1VolumeMount(name="data", mount_path="/var/lib/postgresql/data"),
                           k.V1VolumeMount(name="init", mount_path="/docker-entrypoint-initdb.d")])
        statefulset = k.V1StatefulSet(
            api_version="apps/v1", kind="StatefulSet", metadata=self.meta("agyn-postgres", "postgres"),
            spec=k.V1StatefulSetSpec(
                service_name="agyn-postgres", replicas=1,
                selector=k.V1LabelSelector(match_labels=self.selector("postgres")),
                template=k.V1PodTemplateSpec(
                    metadata=k.V1ObjectMeta(labels=self.labels("postgres")),
                    spec=k.V1PodSpec(security_context=k.V1PodSecurityContext(fs_group=70),  # alpine's postgres
                                     containers=[container], volumes=[k.V1Volume(
                                         name="init",
                                         config_map=k.V1ConfigMapVolumeSource(name="agyn-postgres-init"))])),
                volume_claim_templates=[k.V1PersistentVolumeClaim(
                    metadata=k.V1ObjectMeta(name="data"),
                    spec=k.V1PersistentVolumeClaimSpec(
                        access_modes=["ReadWriteOnce"], storage_class_name=self.config.storage_class,
                        resources=k.V1VolumeResourceRequirements(requests={"storage": postgres.storage})))]))
        service = k.V1Service(api_version="v1", kind="Service", metadata=self.meta("agyn-postgres", "postgres"),
                              spec=k.V1ServiceSpec(cluster_ip="None", selector=self.selector("postgres"),
                                                   ports=[k.V1ServicePort(name="postgres", port=5432,
                                                                          target_port="postgres")]))
        return [config_map, statefulset, service]

    def postgres_secret(self, password: str) -> k.V1Secret:
        return k.V1Secret(api_version="v1", kind="Secret", type="Opaque",
                          metadata=self.meta("agyn-postgres", "postgres"),
                          string_data={"password": password})

    def redis(self) -> list[Any]:
        container = k.V1Container(
            name="redis", image=self.config.redis.image, image_pull_policy=self.config.pull_policy,
            args=["--save", "", "--appendonly", "no"],  # pub/sub only: nothing to keep
            ports=[k.V1ContainerPort(name="redis", container_port=6379)],
            readiness_probe=k.V1Probe(tcp_socket=k.V1TCPSocketAction(port="redis"), period_seconds=5),
            resources=k.V1ResourceRequirements(requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "256Mi"}),
            security_context=self.hardened())
        deployment = k.V1Deployment(
            api_version="apps/v1", kind="Deployment", metadata=self.meta("agyn-redis", "redis"),
            spec=k.V1DeploymentSpec(replicas=1, selector=k.V1LabelSelector(match_labels=self.selector("redis")),
                                    template=k.V1PodTemplateSpec(
                                        metadata=k.V1ObjectMeta(labels=self.labels("redis")),
                                        spec=k.V1PodSpec(security_context=self.pod_security(999),
                                                         containers=[container]))))
        service = k.V1Service(api_version="v1", kind="Service", metadata=self.meta("agyn-redis", "redis"),
                              spec=k.V1ServiceSpec(selector=self.selector("redis"), ports=[k.V1ServicePort(
                                  name="redis", port=6379, target_port="redis")]))
        return [deployment, service]

    def openfga(self, model: str) -> list[Any]:
        """OpenFGA on its own database (schema by `openfga migrate`), and a Job that writes Agyn's model."""
        openfga = self.config.openfga
        datastore = [k.V1EnvVar(name="OPENFGA_DATASTORE_ENGINE", value="postgres"),
                     k.V1EnvVar(name="OPENFGA_DATASTORE_URI", value_from=k.V1EnvVarSource(
                         secret_key_ref=k.V1SecretKeySelector(name="agyn-openfga", key="datastore-uri")))]
        migrate = k.V1Container(name="migrate", image=openfga.image, image_pull_policy=self.config.pull_policy,
                                args=["migrate"], env=datastore, security_context=self.hardened())
        server = k.V1Container(
            name="openfga", image=openfga.image, image_pull_policy=self.config.pull_policy, args=["run"],
            env=[*datastore, k.V1EnvVar(name="OPENFGA_PLAYGROUND_ENABLED", value="false")],
            ports=[k.V1ContainerPort(name="http", container_port=8080),
                   k.V1ContainerPort(name="grpc", container_port=8081)],
            readiness_probe=k.V1Probe(http_get=k.V1HTTPGetAction(path="/healthz", port="http"), period_seconds=5),
            liveness_probe=k.V1Probe(http_get=k.V1HTTPGetAction(path="/healthz", port="http"), period_seconds=10),
            resources=k.V1ResourceRequirements(requests={"cpu": "100m", "memory": "128Mi"},
                                               limits={"memory": "512Mi"}),
            security_context=self.hardened())
        deployment = k.V1Deployment(
            api_version="apps/v1", kind="Deployment", metadata=self.meta("agyn-openfga", "openfga"),
            spec=k.V1DeploymentSpec(replicas=1, selector=k.V1LabelSelector(match_labels=self.selector("openfga")),
                                    template=k.V1PodTemplateSpec(
                                        metadata=k.V1ObjectMeta(labels=self.labels("openfga")),
                                        spec=k.V1PodSpec(security_context=self.pod_security(),
                                                         init_containers=[migrate], containers=[server]))))
        service = k.V1Service(api_version="v1", kind="Service", metadata=self.meta("agyn-openfga", "openfga"),
                              spec=k.V1ServiceSpec(selector=self.selector("openfga"), ports=[
                                  k.V1ServicePort(name="http", port=8080, target_port="http"),
                                  k.V1ServicePort(name="grpc", port=8081, target_port="grpc")]))
        model_map = k.V1ConfigMap(api_version="v1", kind="ConfigMap",
                                  metadata=self.meta("agyn-openfga-model", "openfga"), data={"model.fga": model})
        fga = ["fga", "--api-url", f"http://agyn-openfga.{self.namespace}.svc.cluster.local:8080"]
        if openfga.store_id:  # the model (again) in the platform's store
            name = "agyn-openfga-model"
            command = [*fga, "model", "write", "--store-id", openfga.store_id, "--file", "/model/model.fga"]
        else:  # a new store with the model; its log names the store id for openfga.store_id
            name = "agyn-openfga-store"
            command = [*fga, "store", "create", "--name", "agyn", "--model", "/model/model.fga"]
        job = k.V1Job(  # a Job per purpose: a Job's Pod template cannot change
            api_version="batch/v1", kind="Job", metadata=self.meta(name, "openfga"),
            spec=k.V1JobSpec(backoff_limit=6, template=k.V1PodTemplateSpec(
                metadata=k.V1ObjectMeta(labels=self.labels("openfga")),
                spec=k.V1PodSpec(restart_policy="OnFailure", security_context=self.pod_security(),
                                 containers=[k.V1Container(
                                     name="model", image=openfga.cli_image, image_pull_policy=self.config.pull_policy,
                                     command=command, security_context=self.hardened(),
                                     volume_mounts=[k.V1VolumeMount(name="model", mount_path="/model")])],
                                 volumes=[k.V1Volume(name="model", config_map=k.V1ConfigMapVolumeSource(
                                     name="agyn-openfga-model"))]))))
        return [deployment, service, model_map, job]

    def openfga_secret(self, datastore_uri: str) -> k.V1Secret:
        return k.V1Secret(api_version="v1", kind="Secret", type="Opaque", metadata=self.meta("agyn-openfga", "openfga"),
                          string_data={"datastore-uri": datastore_uri})
