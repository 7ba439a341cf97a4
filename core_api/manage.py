"""Operator commands: `python -m core_api.manage migrate | seed-demo | check-config`."""

from __future__ import annotations

import argparse
import logging

from core_api import migrate
from core_api.settings import load_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core_api.manage")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create the API role and upgrade the schema to Alembic head")
    seed = sub.add_parser(
        "seed-demo", help="create the demo firm, its admin and a sandbox QuickBooks connection"
    )
    seed.add_argument("--sandbox-url", default=None)
    sub.add_parser("check-config", help="validate the environment and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    settings = load_settings()
    if args.command == "migrate":
        if settings.database_url is None:
            raise SystemExit("DATABASE_URL: is required for migrate (make run starts the embedded server)")
        migrate.upgrade(settings.database_url, settings)
    elif args.command == "seed-demo":
        from core_api.demo import seed_demo

        firm_id = seed_demo(settings, sandbox_url=args.sandbox_url or settings.sandbox_url)
        print(f"demo firm {firm_id}")
    else:
        print("configuration OK")


if __name__ == "__main__":
    main()
