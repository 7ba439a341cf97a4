"""Rules for deploy/compose/compose.yaml beyond the Compose Specification schema (check-jsonschema's vendored
`vendor.compose-spec`): the service graph, health, pinning, secrets and exposure."""

from __future__ import annotations

import re
from typing import Any

# Only nginx faces the outside: the Dagster UI must not be reachable except through its auth_request.
PUBLIC_SERVICES = {"nginx"}
_SECRET_KEY = re.compile(r"(PASSWORD|SECRET|TOKEN|ENCRYPTION_KEYS|PRIVATE_KEY|DATABASE_URL|PG_URL)", re.I)


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def _one_shot(service: dict[str, Any]) -> bool:
    """Explicitly `restart: "no"`; a service that leaves restart unset is held to the long-running rules."""
    return service.get("restart") == "no"


def problems(compose: dict[str, Any]) -> list[str]:
    services: dict[str, dict[str, Any]] = compose.get("services") or {}
    found: list[str] = []
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        targets = depends if isinstance(depends, dict) else {d: {} for d in depends}
        for target, condition in targets.items():
            if target not in services:
                found.append(f"{name}: depends_on unknown service {target!r}")
                continue
            wanted = (condition or {}).get("condition", "service_started")
            expected = "service_completed_successfully" if _one_shot(services[target]) else "service_healthy"
            if wanted != expected:
                found.append(f"{name}: depends_on {target} should wait for {expected}, not {wanted}")
        healthcheck = service.get("healthcheck")
        if not _one_shot(service) and (not healthcheck or healthcheck.get("disable")):
            found.append(f"{name}: a long-running service without a healthcheck")
        image = str(service.get("image", ""))
        if not image:
            found.append(f"{name}: no image")
        elif image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]:
            found.append(f"{name}: image {image!r} is not pinned to a tag")
        for key, value in _environment(service).items():
            if _SECRET_KEY.search(key) and value not in (None, ""):
                found.append(f"{name}: {key} is set inline; secrets belong in the env_file")
        if service.get("ports") and name not in PUBLIC_SERVICES:
            found.append(f"{name}: publishes ports; only {sorted(PUBLIC_SERVICES)} may")
        if service.get("network_mode") == "host":
            found.append(f"{name}: network_mode host bypasses the proxy")
    return found
