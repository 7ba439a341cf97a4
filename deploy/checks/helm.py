"""deploy/helm/dagster-values.yaml against the shape Dagster's official chart accepts (chart = the pinned
dagster version, 1.13). helm is not installable here, so the chart's values schema is restated as the keys it
allows per section (from dagster-io/dagster helm/dagster/schema, whose models forbid unknown keys in these
sections) plus what firmsync requires of the values. A typo in a key the chart forbids, a missing required
key, or a weaker setting is reported."""

from __future__ import annotations

from typing import Any

TOP_LEVEL = {
    "global", "nameOverride", "fullnameOverride", "rbacEnabled", "imagePullSecrets", "dagsterWebserver",
    "dagster-user-deployments", "postgresql", "generatePostgresqlPasswordSecret",
    "generateCeleryConfigSecret",
    "rabbitmq", "redis", "flower", "ingress", "computeLogManager", "scheduler", "runLauncher", "pythonLogs",
    "dagsterDaemon", "busybox", "migrate", "telemetry", "serviceAccount", "retention",
    "additionalInstanceConfig", "concurrency", "ui", "defsStateStorage",
}  # fmt: skip
POD_KEYS = {
    "env", "envConfigMaps", "envSecrets", "deploymentLabels", "labels", "nodeSelector", "affinity",
    "tolerations", "podSecurityContext", "securityContext", "resources", "readinessProbe", "livenessProbe",
    "startupProbe", "annotations", "schedulerName", "volumeMounts", "volumes",
}  # fmt: skip
WEBSERVER = POD_KEYS | {
    "replicaCount", "image", "nameOverride", "pathPrefix", "service", "workspace", "enableReadOnly",
    "dbStatementTimeout", "dbPoolRecycle", "logLevel",
}  # fmt: skip
DAEMON = POD_KEYS | {
    "enabled", "image", "runCoordinator", "heartbeatTolerance", "runMonitoring", "runRetries", "sensors",
    "schedules",
}  # fmt: skip
USER_DEPLOYMENT = (POD_KEYS - {"deploymentLabels"}) | {
    "name", "image", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns", "port",
}  # fmt: skip
USER_DEPLOYMENTS = {"enabled", "enableSubchart", "imagePullSecrets", "deployments"}
K8S_RUN_LAUNCHER = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile", "envConfigMaps",
    "envSecrets", "envVars", "volumeMounts", "volumes", "labels", "failPodOnRunFailure", "resources",
    "schedulerName", "securityContext", "runK8sConfig",
}  # fmt: skip
RUN_K8S_CONFIG = {
    "containerConfig",
    "podSpecConfig",
    "podTemplateSpecMetadata",
    "jobSpecConfig",
    "jobMetadata",
}
QUEUED_RUN_COORDINATOR = {
    "maxConcurrentRuns", "tagConcurrencyLimits", "dequeueIntervalSeconds", "dequeueNumWorkers",
    "dequeueUseThreads",
}  # fmt: skip
CONCURRENCY = {"enabled", "pools", "runs"}
POOLS = {"defaultLimit", "granularity", "opGranularityRunBuffer"}
RUNS = {"maxConcurrentRuns", "tagConcurrencyLimits"}
TAG_LIMIT = {"key", "value", "limit"}
POSTGRESQL = {
    "image", "enabled", "postgresqlHost", "postgresqlUsername", "postgresqlPassword", "postgresqlDatabase",
    "postgresqlParams", "postgresqlScheme", "service",
}  # fmt: skip
IMAGE = {"repository", "tag", "pullPolicy"}
COMPUTE_LOG_TYPES = {
    "NoOpComputeLogManager", "AzureBlobComputeLogManager", "GCSComputeLogManager", "S3ComputeLogManager",
    "CustomComputeLogManager",
}  # fmt: skip


def _unknown(where: str, value: Any, allowed: set[str]) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected a mapping"]
    return [f"{where}.{key}: not a key the chart accepts" for key in sorted(set(value) - allowed)]


def _image(where: str, image: Any) -> list[str]:
    problems = _unknown(where, image, IMAGE)
    if isinstance(image, dict):
        tag = str(image.get("tag") or "")
        if not image.get("repository") or not tag or tag == "latest":
            problems.append(f"{where}: repository and an exact tag (not latest) are required")
    return problems


def _tag_limits(where: str, limits: Any) -> list[str]:
    problems: list[str] = []
    for i, limit in enumerate(limits or []):
        problems += _unknown(f"{where}[{i}]", limit, TAG_LIMIT)
        if isinstance(limit, dict) and not {"key", "limit"} <= set(limit):
            problems.append(f"{where}[{i}]: key and limit are required")
    return problems


def problems(values: dict[str, Any]) -> list[str]:
    found = _unknown("values", values, TOP_LEVEL)
    webserver = values.get("dagsterWebserver", {})
    found += _unknown("dagsterWebserver", webserver, WEBSERVER)
    found += _image("dagsterWebserver.image", webserver.get("image"))
    if webserver.get("pathPrefix") != "/dagster":
        found.append("dagsterWebserver.pathPrefix must be /dagster (the ingress serves the UI there)")

    user = values.get("dagster-user-deployments", {})
    found += _unknown("dagster-user-deployments", user, USER_DEPLOYMENTS)
    deployments = user.get("deployments") or []
    if not user.get("enabled") or not deployments:
        found.append("dagster-user-deployments: the firmsync code location is not deployed")
    for i, deployment in enumerate(deployments):
        where = f"dagster-user-deployments.deployments[{i}]"
        found += _unknown(where, deployment, USER_DEPLOYMENT)
        found += _image(f"{where}.image", deployment.get("image"))
        for key in ("name", "port"):
            if key not in deployment:
                found.append(f"{where}: {key} is required")

    launcher = values.get("runLauncher", {})
    if launcher.get("type") != "K8sRunLauncher":
        found.append("runLauncher.type must be K8sRunLauncher")
    k8s = (launcher.get("config") or {}).get("k8sRunLauncher", {})
    found += _unknown("runLauncher.config.k8sRunLauncher", k8s, K8S_RUN_LAUNCHER)
    found += _unknown(
        "runLauncher.config.k8sRunLauncher.runK8sConfig", k8s.get("runK8sConfig", {}), RUN_K8S_CONFIG
    )

    daemon = values.get("dagsterDaemon", {})
    found += _unknown("dagsterDaemon", daemon, DAEMON)
    found += _image("dagsterDaemon.image", daemon.get("image"))
    coordinator = daemon.get("runCoordinator", {})
    if not coordinator.get("enabled") or coordinator.get("type") != "QueuedRunCoordinator":
        found.append("dagsterDaemon.runCoordinator must be an enabled QueuedRunCoordinator")
    queued = (coordinator.get("config") or {}).get("queuedRunCoordinator", {})
    found += _unknown(
        "dagsterDaemon.runCoordinator.config.queuedRunCoordinator", queued, QUEUED_RUN_COORDINATOR
    )
    found += _tag_limits("queuedRunCoordinator.tagConcurrencyLimits", queued.get("tagConcurrencyLimits"))

    concurrency = values.get("concurrency", {})
    found += _unknown("concurrency", concurrency, CONCURRENCY)
    found += _unknown("concurrency.pools", concurrency.get("pools", {}), POOLS)
    runs = concurrency.get("runs", {})
    found += _unknown("concurrency.runs", runs, RUNS)
    found += _tag_limits("concurrency.runs.tagConcurrencyLimits", runs.get("tagConcurrencyLimits"))
    if concurrency.get("pools", {}).get("granularity") not in (None, "run", "op"):
        found.append("concurrency.pools.granularity must be run or op")
    limited = queued.get("maxConcurrentRuns") or (
        concurrency.get("enabled") and runs.get("maxConcurrentRuns")
    )
    if not limited:
        found.append("the run queue has no max_concurrent_runs")

    postgresql = values.get("postgresql", {})
    found += _unknown("postgresql", postgresql, POSTGRESQL)
    if postgresql.get("enabled") is not False or not postgresql.get("postgresqlHost"):
        found.append("postgresql: must be the external server (enabled: false, postgresqlHost set)")
    if postgresql.get("postgresqlPassword") or values.get("generatePostgresqlPasswordSecret") is not False:
        found.append("postgresql: the password must come from global.postgresqlSecretName, not the values")
    if not values.get("global", {}).get("postgresqlSecretName"):
        found.append("global.postgresqlSecretName: the Secret holding the database password is not named")

    logs = values.get("computeLogManager")
    if logs is not None:
        found += _unknown("computeLogManager", logs, {"type", "config"})
        if logs.get("type") not in COMPUTE_LOG_TYPES or "config" not in logs:
            found.append("computeLogManager: a known type and a config mapping are required")
    return found
