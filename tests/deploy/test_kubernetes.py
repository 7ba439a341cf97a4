"""deploy/k8s manifests through kubernetes-validate (strict, one fixed Kubernetes version) and firmsync's
workload rules; deploy/helm/dagster-values.yaml against the shape of Dagster's chart. Broken copies fail."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.checks import helm, k8s

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
VALUES = ROOT / "deploy" / "helm" / "dagster-values.yaml"


def all_documents() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in k8s.load_documents(path)]


def by_kind(kind: str, name: str | None = None) -> dict[str, Any]:
    return next(
        d for d in all_documents() if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    )


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_valid_kubernetes_and_follows_the_rules(path: Path) -> None:
    for doc in k8s.load_documents(path):
        assert k8s.schema_problems(doc) == []
        assert k8s.workload_problems(doc) == []


def test_the_api_has_every_object_it_needs() -> None:
    kinds = {(d["apiVersion"], d["kind"]) for d in all_documents()}
    assert {
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("policy/v1", "PodDisruptionBudget"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("batch/v1", "Job"),
        ("v1", "ConfigMap"),
        ("networking.k8s.io/v1", "Ingress"),
    } <= kinds
    assert "Secret" not in {d["kind"] for d in all_documents()}  # secrets are created out of band
    job = by_kind("Job", "firmsync-migrate")["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == ["python", "-m", "core_api.manage", "migrate"]
    hpa = by_kind("HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"]["name"] == by_kind("Deployment", "firmsync-api")["metadata"]["name"]
    assert hpa["minReplicas"] >= 2


def test_the_console_ingress_asks_the_operator_gate() -> None:
    console = by_kind("Ingress", "firmsync-dagster")
    assert console["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-url"].endswith(
        "/api/v1/auth/operator"
    )
    assert console["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/dagster"


def _mutated(name: str, kind: str, change) -> dict[str, Any]:
    doc = copy.deepcopy(by_kind(kind, name))
    change(doc)
    return doc


def _container(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(
    "change",
    [
        lambda d: _container(d).pop("name"),  # a container's required field
        lambda d: _container(d).update(livenessProbes={}),  # unknown field: strict mode
        lambda d: d["spec"].update(replicas="two"),  # wrong type
        lambda d: d["spec"].pop("selector"),  # required field
    ],
    ids=["container-name", "unknown-field", "type", "required"],
)
def test_a_broken_manifest_fails_kubernetes_validation(change) -> None:
    assert k8s.schema_problems(_mutated("firmsync-api", "Deployment", change)) != []


def test_an_api_version_the_cluster_does_not_serve_fails() -> None:
    hpa = copy.deepcopy(by_kind("HorizontalPodAutoscaler"))
    hpa["apiVersion"] = "autoscaling/v2beta1"  # removed in Kubernetes 1.25
    assert k8s.schema_problems(hpa) != []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["spec"]["template"]["spec"]["securityContext"].update(runAsUser=0),
            "non-zero runAsUser",
        ),
        (lambda d: d["spec"]["template"]["spec"]["securityContext"].pop("runAsNonRoot"), "runAsNonRoot"),
        (lambda d: _container(d)["securityContext"].update(readOnlyRootFilesystem=False), "readOnlyRoot"),
        (lambda d: _container(d)["securityContext"].pop("allowPrivilegeEscalation"), "PrivilegeEscalation"),
        (lambda d: _container(d).pop("resources"), "resource requests"),
        (lambda d: _container(d).update(image="registry.example.com/firmsync-api:latest"), "not pinned"),
        (lambda d: _container(d)["readinessProbe"]["httpGet"].update(path="/healthz"), "/readyz"),
        (lambda d: _container(d).update(env=[{"name": "FIRMSYNC_JWT_SECRET", "value": "x"}]), "literal"),
    ],
)
def test_a_weakened_api_deployment_breaks_the_rules(change, expected: str) -> None:
    problems = k8s.workload_problems(_mutated("firmsync-api", "Deployment", change))
    assert any(expected in p for p in problems), problems


# --- Helm values for Dagster's official chart ----------------------------------------------------------


def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


def test_helm_values_have_the_charts_shape() -> None:
    assert helm.problems(values()) == []


def test_helm_values_run_our_code_location_with_the_k8s_run_launcher() -> None:
    v = values()
    (deployment,) = v["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "pipelines.definitions"]
    assert v["runLauncher"]["type"] == "K8sRunLauncher"
    assert {"name": "firmsync-secrets"} in v["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]
    # The chart's images are the pinned dagster version, like uv.lock's.
    lock = (ROOT / "uv.lock").read_text()
    assert f'name = "dagster"\nversion = "{v["dagsterWebserver"]["image"]["tag"]}"' in lock
    assert v["dagsterDaemon"]["image"]["tag"] == v["dagsterWebserver"]["image"]["tag"]
    # Our code-location image's version follows VERSION.
    assert deployment["image"]["tag"] == (ROOT / "VERSION").read_text().strip()


def test_helm_run_queue_matches_dagster_yaml(monkeypatch) -> None:
    from dagster._core.instance.config import dagster_instance_config

    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql://u@/dagster?host=/tmp")
    instance, _ = dagster_instance_config(str(ROOT))
    v = values()["concurrency"]
    assert v["enabled"] is True
    assert v["runs"]["tagConcurrencyLimits"] == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert v["pools"] == {
        "defaultLimit": instance["concurrency"]["pools"]["default_limit"],
        "granularity": instance["concurrency"]["pools"]["granularity"],
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda v: v["concurrency"]["runs"].update(maxConcurentRuns=3), "maxConcurentRuns"),
        (lambda v: v.update(dagsterUserDeployments={}), "dagsterUserDeployments"),
        (lambda v: v["runLauncher"].update(type="CeleryK8sRunLauncher"), "K8sRunLauncher"),
        (lambda v: v["runLauncher"]["config"]["k8sRunLauncher"].update(envSecret=[]), "envSecret"),
        (lambda v: v["dagsterWebserver"]["image"].update(tag="latest"), "exact tag"),
        (lambda v: v["dagsterWebserver"].update(pathPrefix=None), "pathPrefix"),
        (lambda v: v["postgresql"].update(postgresqlPassword="hunter2"), "password"),
        (lambda v: v["postgresql"].update(enabled=True), "external"),
        (lambda v: v["dagsterDaemon"]["runCoordinator"].update(type="DefaultRunCoordinator"), "Queued"),
        (lambda v: v["concurrency"]["runs"]["tagConcurrencyLimits"][0].pop("limit"), "required"),
        (lambda v: v["concurrency"]["pools"].update(granularity="step"), "granularity"),
    ],
)
def test_broken_helm_values_are_rejected(change, expected: str) -> None:
    broken = copy.deepcopy(values())
    change(broken)
    problems = helm.problems(broken)
    assert any(expected in p for p in problems), problems
