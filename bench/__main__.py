"""`python -m bench <name> [options]`: run one benchmark, print ONE JSON line of figures on stdout.

Each bench module has `add_arguments(parser)` (its options; optional) and `run(**options) -> dict`.
Logs go to stderr, so stdout stays machine-readable (`python -m bench load | jq .`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys

BENCHES = {
    "load": "bench.load",
    "incremental": "bench.incremental",
    "ratelimit": "bench.ratelimit",
    "tenants": "bench.tenants",
    "metrics": "bench.metrics",
}
ALIASES = {"loader": "load"}  # the loader bench's first name


def _usage() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Print one JSON line of benchmark figures. `python -m bench <name> -h`: its options.",
    )
    parser.add_argument("name", choices=sorted({*BENCHES, *ALIASES}))
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0] not in BENCHES and argv[0] not in ALIASES):
        _usage().parse_args(argv)  # prints help or the error, and exits
        return
    name = ALIASES.get(argv[0], argv[0])
    module = importlib.import_module(BENCHES[name])
    parser = argparse.ArgumentParser(
        prog=f"python -m bench {name}",
        description=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else None,
    )
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    options = parser.parse_args(argv[1:])
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    figures = module.run(**vars(options))
    print(json.dumps({"bench": name, **figures}, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
