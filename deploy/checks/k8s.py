"""deploy/k8s/*.yaml: every document validated by kubernetes-validate against one fixed Kubernetes version,
strictly (unknown fields rejected), plus firmsync's rules for the API workload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

# The oldest Kubernetes minor still supported upstream when this was written; raise it with the clusters.
KUBERNETES_VERSION = "1.33.0"


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def schema_problems(doc: dict[str, Any], *, version: str = KUBERNETES_VERSION) -> list[str]:
    name = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        return [f"{name}: {path}: {exc.message}"]
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as exc:
        return [f"{name}: {exc}"]
    return []


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc.get("kind") in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
        return doc["spec"]["template"]["spec"]
    return None


def workload_problems(doc: dict[str, Any]) -> list[str]:
    """Non-root, read-only root filesystem, no privilege escalation, resources, env from ConfigMap/Secret
    (no literal secrets); Deployments also probe /healthz (liveness) and /readyz (readiness)."""
    spec = _pod_spec(doc)
    if spec is None:
        return []
    name = f"{doc['kind']}/{doc['metadata']['name']}"
    found: list[str] = []
    pod_security = spec.get("securityContext") or {}
    if not pod_security.get("runAsNonRoot") or pod_security.get("runAsUser") in (None, 0):
        found.append(f"{name}: the pod must set runAsNonRoot and a non-zero runAsUser")
    for container in spec.get("containers", []):
        where = f"{name} container {container.get('name')}"
        security = container.get("securityContext") or {}
        if security.get("readOnlyRootFilesystem") is not True:
            found.append(f"{where}: readOnlyRootFilesystem must be true")
        if security.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: allowPrivilegeEscalation must be false")
        resources = container.get("resources") or {}
        if not resources.get("requests") or not resources.get("limits"):
            found.append(f"{where}: resource requests and limits are required")
        image = str(container.get("image", ""))
        if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]:
            found.append(f"{where}: image {image!r} is not pinned to a tag")
        for env in container.get("env", []) or []:
            if "value" in env and any(w in env["name"].upper() for w in ("SECRET", "PASSWORD", "KEY", "URL")):
                found.append(f"{where}: {env['name']} is a literal; take it from the Secret")
        sources = {next(iter(s)) for s in container.get("envFrom", []) or []}
        if not {"configMapRef", "secretRef"} <= sources:
            found.append(f"{where}: envFrom must take the ConfigMap and the Secret")
        if doc["kind"] == "Deployment":
            liveness = ((container.get("livenessProbe") or {}).get("httpGet") or {}).get("path")
            readiness = ((container.get("readinessProbe") or {}).get("httpGet") or {}).get("path")
            if (liveness, readiness) != ("/healthz", "/readyz"):
                found.append(f"{where}: liveness must probe /healthz and readiness /readyz")
    return found
