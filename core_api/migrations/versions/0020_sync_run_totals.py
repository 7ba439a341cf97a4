"""sync run totals: running sums of app.sync_runs kept by a trigger, so /metrics reads a few small rows

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 01:20:00

Summing app.sync_runs at every scrape grows with history (bench/metrics.py: 1.35 s a scrape at 100,000 runs,
past the 5 s statement timeout by ~400,000 — four days of a thousand connections). An AFTER INSERT trigger
adds each run to per-(vendor, status) and per-(vendor, stream) totals and moves the connection's last
success per stream, in the run's own transaction; the collector reads those, and old runs can be pruned
(pipelines/maintenance.py) without the counters going backwards. Totals carry no firm: owner-only, like the
other cross-tenant aggregates; the trigger function is SECURITY DEFINER because runs are written as the API role.
"""

from collections.abc import Sequence

from alembic import op

from core_api.migration_helpers import API_ROLE

revision: str = "0020"
down_revision: str | tuple[str, ...] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Upper bounds (seconds) of the run-duration histogram; core_api/sync_metrics.py reads the same columns.
BUCKETS = (1, 5, 15, 60, 300, 900, 3600)
OPERATIONS = ("inserted", "updated", "unchanged", "deleted", "dead_lettered")


def upgrade() -> None:
    buckets = ", ".join(f"le_{b} bigint not null default 0" for b in BUCKETS)
    operations = ", ".join(f"{op_} bigint not null default 0" for op_ in OPERATIONS)
    op.execute(
        f"""
        create table app.sync_run_totals (
            provider text not null,
            status text not null,
            runs bigint not null default 0,
            api_calls bigint not null default 0,
            throttled bigint not null default 0,
            retries bigint not null default 0,
            seconds_sum double precision not null default 0,
            {buckets},
            primary key (provider, status)
        );
        create table app.sync_record_totals (
            provider text not null,
            stream text not null,
            {operations},
            primary key (provider, stream)
        );
        create table app.sync_stream_successes (
            connection_id uuid not null references app.connections (id) on delete cascade,
            stream text not null,
            provider text not null,
            succeeded_at timestamptz not null,
            primary key (connection_id, stream)
        );
        """
    )
    for table in ("sync_run_totals", "sync_record_totals", "sync_stream_successes"):
        # 0001's default privileges hand every new app table to the API group: not these (no firm column).
        op.execute(f"revoke all on app.{table} from {API_ROLE}, public")
        op.execute(f"alter table app.{table} enable row level security")

    bucket_names = ", ".join(f"le_{b}" for b in BUCKETS)
    bucket_values = ", ".join(f"(new.seconds <= {b})::int" for b in BUCKETS)
    bucket_updates = ", ".join(f"le_{b} = t.le_{b} + excluded.le_{b}" for b in BUCKETS)
    op_names = ", ".join(OPERATIONS)
    op_values = ", ".join(f"coalesce((s.value ->> '{o}')::bigint, 0)" for o in OPERATIONS)
    op_updates = ", ".join(f"{o} = t.{o} + excluded.{o}" for o in OPERATIONS)
    # Bandit's B608 (SQL built from a string) is a false positive: BUCKETS and OPERATIONS are module constants.
    op.execute(
        f"""
        create function app.sync_runs_roll_up() returns trigger
        language plpgsql security definer set search_path = pg_catalog, app as $$
        begin
            insert into app.sync_run_totals as t
                (provider, status, runs, api_calls, throttled, retries, seconds_sum, {bucket_names})
            values (new.provider, new.status, 1, new.api_calls, new.throttled, new.retries, new.seconds,
                    {bucket_values})
            on conflict (provider, status) do update set
                runs = t.runs + 1, api_calls = t.api_calls + excluded.api_calls,
                throttled = t.throttled + excluded.throttled, retries = t.retries + excluded.retries,
                seconds_sum = t.seconds_sum + excluded.seconds_sum, {bucket_updates};
            insert into app.sync_record_totals as t (provider, stream, {op_names})
            select new.provider, s.key, {op_values} from jsonb_each(new.streams) s
            on conflict (provider, stream) do update set {op_updates};
            if new.status = 'succeeded' then
                insert into app.sync_stream_successes as t (connection_id, stream, provider, succeeded_at)
                select new.connection_id, k, new.provider, new.finished_at from jsonb_object_keys(new.streams) k
                on conflict (connection_id, stream) do update
                    set succeeded_at = greatest(t.succeeded_at, excluded.succeeded_at);
            end if;
            return null;
        end $$;
        revoke all on function app.sync_runs_roll_up() from public;
        create trigger sync_runs_roll_up after insert on app.sync_runs
            for each row execute function app.sync_runs_roll_up();
        """  # nosec B608
    )
    # Rebuilding from the runs themselves: for the runs recorded before this migration, and for operators
    # after a bulk load with triggers off (bench/metrics.py does exactly that).
    sums = ", ".join(f"count(*) filter (where seconds <= {b})" for b in BUCKETS)
    op_sums = ", ".join(f"sum(coalesce((s.value ->> '{o}')::bigint, 0))" for o in OPERATIONS)
    # Bandit's B608 is a false positive here too: the SQL is built from this module's constants only.
    op.execute(
        f"""
        create function app.sync_totals_rebuild() returns void
        language sql security definer set search_path = pg_catalog, app as $$
            truncate app.sync_run_totals, app.sync_record_totals, app.sync_stream_successes;
            insert into app.sync_run_totals (provider, status, runs, api_calls, throttled, retries,
                                             seconds_sum, {bucket_names})
            select provider, status, count(*), sum(api_calls), sum(throttled), sum(retries), sum(seconds), {sums}
            from app.sync_runs group by provider, status;
            insert into app.sync_record_totals (provider, stream, {op_names})
            select r.provider, s.key, {op_sums}
            from app.sync_runs r cross join lateral jsonb_each(r.streams) s group by r.provider, s.key;
            insert into app.sync_stream_successes (connection_id, stream, provider, succeeded_at)
            select r.connection_id, k, min(r.provider), max(r.finished_at)
            from app.sync_runs r cross join lateral jsonb_object_keys(r.streams) k
            where r.status = 'succeeded' group by r.connection_id, k;
        $$;
        revoke all on function app.sync_totals_rebuild() from public;
        select app.sync_totals_rebuild();
        """  # nosec B608
    )


def downgrade() -> None:
    op.execute("drop trigger sync_runs_roll_up on app.sync_runs")
    op.execute("drop function app.sync_runs_roll_up()")
    op.execute("drop function app.sync_totals_rebuild()")
    for table in ("sync_stream_successes", "sync_record_totals", "sync_run_totals"):
        op.execute(f"drop table app.{table}")
