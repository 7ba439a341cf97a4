from __future__ import annotations

import argparse
import importlib
import json

BENCHES = {"loader": "bench.loader"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=sorted(BENCHES))
    parser.add_argument("--rows", type=int, default=None, help="override the bench's default size")
    args = parser.parse_args()
    module = importlib.import_module(BENCHES[args.name])
    figures = module.run(**({"rows": args.rows} if args.rows else {}))
    print(json.dumps({"bench": args.name, **figures}, sort_keys=True))


if __name__ == "__main__":
    main()
