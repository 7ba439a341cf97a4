"""The committed OpenAPI contract: `python -m core_api.openapi` rewrites core_api/openapi.json.

A test fails when the file differs from what the code serves, so the contract in the repository is
always the one the API implements (and the SPA's generated client is built from it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ARTIFACT = Path(__file__).resolve().parent / "openapi.json"


def render() -> str:
    from cryptography.fernet import Fernet

    from core_api.app import create_app
    from core_api.settings import Settings

    # The document does not depend on secrets; placeholders let it render without an environment.
    settings = Settings(jwt_secret="x" * 32, encryption_keys=Fernet.generate_key().decode())  # type: ignore[arg-type]
    spec = create_app(settings).openapi()
    spec["info"]["version"] = "see VERSION"  # keep the artifact stable across releases of unrelated changes
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def main() -> None:
    text = render()
    if "--check" in sys.argv:
        if not ARTIFACT.exists() or ARTIFACT.read_text() != text:
            print(f"{ARTIFACT} is stale: run `python -m core_api.openapi`", file=sys.stderr)
            raise SystemExit(1)
        return
    ARTIFACT.write_text(text)
    print(f"wrote {ARTIFACT}")


if __name__ == "__main__":
    main()
