"""Operator commands: `python -m core_api.manage migrate | seed-demo | check-config | create-analyst |
drop-analyst | unlock-login`."""

from __future__ import annotations

import argparse
import logging
import re
import secrets
import sys
import uuid

from psycopg import sql
from sqlalchemy import create_engine, pool, text
from sqlalchemy.orm import Session

from core_api import migrate
from core_api.db import normalise_url
from core_api.migration_helpers import ANALYST_ALL_ROLE, ANALYST_ROLE
from core_api.settings import Settings, load_settings

LOGIN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def create_analyst(database_url: str, login: str, *, firm_id: uuid.UUID | None, password: str) -> None:
    """A read-only analyst login (docs/analysts.md) for one firm's warehouse rows, or every firm's (None).

    A firm-scoped login is a member of `firmsync_analyst`, has `app.firm_id` set for this database (so the
    tenant policies select its firm's rows) and is bound to the firm in `app.analyst_logins` (which the
    restrictive `analyst_firm_lock` policies enforce, whatever the analyst sets). A platform-wide login is a
    member of `firmsync_analyst_all`. Neither can write, nor read `app`.
    """
    if not LOGIN.fullmatch(login) or login.startswith(("firmsync_", "pg_")):
        raise ValueError(f"login {login!r}: lowercase letters, digits and _, not starting firmsync_ or pg_")
    engine = create_engine(normalise_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            if conn.execute(text("select 1 from pg_roles where rolname = :r"), {"r": login}).first():
                raise ValueError(f"role {login!r} already exists (drop-analyst first to re-create it)")
            if (
                firm_id is not None
                and not conn.execute(text("select 1 from app.firms where id = :f"), {"f": firm_id}).first()
            ):
                raise ValueError(f"no firm {firm_id}")
            database = conn.execute(text("select current_database()")).scalar_one()
            statements = [
                sql.SQL(
                    "create role {} login nosuperuser nobypassrls nocreatedb nocreaterole password {}"
                ).format(sql.Identifier(login), sql.Literal(password)),
                sql.SQL("grant {} to {}").format(
                    sql.Identifier(ANALYST_ROLE if firm_id else ANALYST_ALL_ROLE), sql.Identifier(login)
                ),
            ]
            if firm_id is not None:
                statements.append(
                    sql.SQL("alter role {} in database {} set app.firm_id = {}").format(
                        sql.Identifier(login), sql.Identifier(database), sql.Literal(str(firm_id))
                    )
                )
            for statement in statements:
                conn.exec_driver_sql(statement.as_string(raw))
            if firm_id is not None:
                conn.execute(
                    text("insert into app.analyst_logins (login, firm_id) values (:l, :f)"),
                    {"l": login, "f": firm_id},
                )
    finally:
        engine.dispose()


def drop_analyst(database_url: str, login: str) -> None:
    """Remove an analyst login made by `create_analyst` (refuses any other role)."""
    engine = create_engine(normalise_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            is_analyst = conn.execute(
                text(
                    "select 1 from pg_auth_members m join pg_roles g on g.oid = m.roleid "
                    "join pg_roles r on r.oid = m.member where r.rolname = :l and g.rolname = any(:groups)"
                ),
                {"l": login, "groups": [ANALYST_ROLE, ANALYST_ALL_ROLE]},
            ).first()
            if not is_analyst:
                raise ValueError(f"{login!r} is not an analyst login")
            conn.execute(text("delete from app.analyst_logins where login = :l"), {"l": login})
            conn.exec_driver_sql(sql.SQL("drop role {}").format(sql.Identifier(login)).as_string(raw))
    finally:
        engine.dispose()


def unlock_login(database_url: str, settings: Settings, email: str) -> bool:
    """Clear an account's failed sign-ins and lock (docs/runbooks/security.md); audited in its firms.
    Returns whether there was anything to clear."""
    from core_api.auth import lockout
    from core_api.auth.service import find_user

    engine = create_engine(normalise_url(database_url), poolclass=pool.NullPool)
    try:
        with Session(engine) as session:
            cleared = lockout.clear(session, settings, email)
            user = find_user(session, email)
            if cleared:
                lockout.audit(session, user.id if user else None, "login_unlocked", {"by": "operator"})
            session.commit()
            return cleared
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core_api.manage")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create the API role and upgrade the schema to Alembic head")
    seed = sub.add_parser(
        "seed-demo", help="create the demo firm, its admin and a sandbox QuickBooks connection"
    )
    seed.add_argument("--sandbox-url", default=None)
    sub.add_parser("check-config", help="validate the environment and exit")
    analyst = sub.add_parser(
        "create-analyst", help="create a read-only SQL login on the warehouse schema (docs/analysts.md)"
    )
    analyst.add_argument("--name", required=True, help="the login (role) name")
    scope = analyst.add_mutually_exclusive_group(required=True)
    scope.add_argument("--firm", type=uuid.UUID, help="the firm whose rows the login may read")
    scope.add_argument("--all", action="store_true", help="platform-wide: every firm's rows")
    analyst.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (default: generate one)"
    )
    drop = sub.add_parser("drop-analyst", help="remove an analyst login")
    drop.add_argument("--name", required=True)
    unlock = sub.add_parser("unlock-login", help="clear an account's failed sign-ins and login lock")
    unlock.add_argument("email")
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
    elif args.command == "unlock-login":
        if settings.database_url is None:
            raise SystemExit("DATABASE_URL: is required (the owner connection)")
        if unlock_login(settings.database_url, settings, args.email):
            print(f"unlocked {args.email}: failed sign-ins cleared")
        else:
            print(f"{args.email} had no failed sign-ins or lock on record")
    elif args.command in ("create-analyst", "drop-analyst"):
        if settings.database_url is None:
            raise SystemExit("DATABASE_URL: is required (the owner connection)")
        try:
            if args.command == "drop-analyst":
                drop_analyst(settings.database_url, args.name)
                print(f"dropped analyst {args.name}")
                return
            password = sys.stdin.readline().strip() if args.password_stdin else secrets.token_urlsafe(24)
            if not password:
                raise ValueError("empty password on stdin")
            create_analyst(settings.database_url, args.name, firm_id=args.firm, password=password)
        except ValueError as exc:
            raise SystemExit(f"{args.command}: {exc}") from None
        scope = f"firm {args.firm}" if args.firm else "every firm"
        print(f"analyst {args.name} created ({scope}, read-only on schema warehouse)")
        if not args.password_stdin:
            print(f"password: {password}  (shown once; store it in your secret manager)")
    else:
        print("configuration OK")


if __name__ == "__main__":
    main()
