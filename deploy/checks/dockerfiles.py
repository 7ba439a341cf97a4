"""Rules hadolint does not enforce, checked with dockerfile-parse: pinned bases, multi-stage, a non-root
numeric USER in the final stage, a HEALTHCHECK, and (for the API image) the built SPA copied in."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from dockerfile_parse import DockerfileParser

# name:tag or name:tag@sha256:… or name@sha256:…; the tag must not be `latest` or missing.
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[^@\s]+:(?P<tag>[\w][\w.-]{0,127})(@sha256:[0-9a-f]{64})?$")
_NUMERIC_USER = re.compile(r"^(?P<uid>\d+)(:(?P<gid>\d+))?$")


def _parse(path: Path) -> list[dict]:
    parser = DockerfileParser(path=str(path), cache_content=True)
    parser.content = path.read_text()
    return parser.structure


def _stages(structure: list[dict]) -> list[list[dict]]:
    stages: list[list[dict]] = []
    for instruction in structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def base_image_problems(path: Path) -> list[str]:
    """Every FROM names an external image by exact tag (or digest), never `latest`; stage names are fine."""
    problems: list[str] = []
    stage_names: set[str] = set()
    for instruction in _parse(path):
        if instruction["instruction"] != "FROM":
            continue
        words = [w for w in instruction["value"].split() if not w.startswith("--")]
        image = words[0]
        if len(words) >= 3 and words[1].lower() == "as":
            stage_names.add(words[2])
        if image in stage_names:
            continue
        match = _TAG.match(image)
        if _DIGEST.search(image) and not match:
            continue  # name@sha256:… alone is pinned
        if match is None:
            problems.append(f"line {instruction['startline'] + 1}: FROM {image} has no tag or digest")
        elif match["tag"] == "latest":
            problems.append(f"line {instruction['startline'] + 1}: FROM {image} uses latest")
        elif not re.search(r"\d+\.\d+\.\d+", match["tag"]) and not _DIGEST.search(image):
            problems.append(f"line {instruction['startline'] + 1}: FROM {image} is not an exact x.y.z tag")
    return problems


def runtime_problems(path: Path, *, requires_spa: bool = False) -> list[str]:
    stages = _stages(_parse(path))
    problems: list[str] = []
    if len(stages) < 2:
        problems.append("not multi-stage: build tools would ship in the runtime image")
    final = stages[-1] if stages else []
    users = [i["value"].strip() for i in final if i["instruction"] == "USER"]
    if not users:
        problems.append("final stage has no USER: the container would run as root")
    else:
        match = _NUMERIC_USER.match(users[-1])
        if match is None:
            problems.append(f"final USER {users[-1]!r} is not numeric (runAsNonRoot cannot verify a name)")
        elif int(match["uid"]) == 0 or (match["gid"] is not None and int(match["gid"]) == 0):
            problems.append(f"final USER {users[-1]!r} is root")
    healthchecks = [i["value"].strip() for i in final if i["instruction"] == "HEALTHCHECK"]
    if not healthchecks or healthchecks[-1].upper() == "NONE":
        problems.append("final stage has no HEALTHCHECK")
    if not any(i["instruction"] in {"CMD", "ENTRYPOINT"} for i in final):
        problems.append("final stage has no CMD or ENTRYPOINT")
    if not any(i["instruction"] == "EXPOSE" for i in final):
        problems.append("final stage has no EXPOSE")
    for instruction in final:
        if instruction["instruction"] in {"ENV", "ARG"} and re.search(
            r"(SECRET|PASSWORD|TOKEN|ENCRYPTION_KEYS)\w*=", instruction["value"], re.IGNORECASE
        ):
            problems.append(f"line {instruction['startline'] + 1}: a secret is baked into the image")
    if requires_spa and not any(
        i["instruction"] == "COPY" and "frontend/dist" in i["value"] and "--from=" in i["value"]
        for i in final
    ):
        problems.append("the API image does not copy the built SPA (frontend/dist) from a build stage")
    return problems


def _matches(candidate: str, pattern: str) -> bool:
    if pattern.startswith("**/"):
        segments = candidate.split("/")
        return any(fnmatch.fnmatchcase("/".join(segments[i:]), pattern[3:]) for i in range(len(segments)))
    return fnmatch.fnmatchcase(candidate, pattern)


def _ignored(relative: str, patterns: list[str]) -> bool:
    """.dockerignore as Docker reads it, for the patterns used here: a path is excluded when it or a parent
    matches (`**/` at any depth), and a later `!pattern` re-includes it."""
    parts = relative.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern.removeprefix("!").strip("/")
        if any(_matches(candidate, body) for candidate in candidates):
            excluded = not negate
    return excluded


def context_problems(path: Path, root: Path) -> list[str]:
    """Every COPY/ADD from the build context names a file that exists and that .dockerignore lets through
    (no Docker here to find out at build time)."""
    ignore_file = root / ".dockerignore"
    patterns = [
        line.strip()
        for line in (ignore_file.read_text().splitlines() if ignore_file.exists() else [])
        if line.strip() and not line.startswith("#")
    ]
    problems: list[str] = []
    for instruction in _parse(path):
        if instruction["instruction"] not in {"COPY", "ADD"} or "--from=" in instruction["value"]:
            continue
        words = [w for w in instruction["value"].split() if not w.startswith("--")]
        for source in words[:-1]:
            if not any(root.glob(source.rstrip("/") or ".")):
                problems.append(f"line {instruction['startline'] + 1}: {source} is not in the build context")
            elif _ignored(source, patterns):
                problems.append(f"line {instruction['startline'] + 1}: {source} is excluded by .dockerignore")
    return problems
