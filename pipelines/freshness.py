"""Freshness of synced assets, derived from the connection cadence (ADR 0007).

Dagster 1.13 makes freshness a first-class `FreshnessPolicy` on the asset spec
(`AssetSpec(freshness_policy=...)`), evaluated by the `dagster-daemon`'s freshness daemon (on by default;
`freshness: enabled: false` in dagster.yaml turns it off) and shown in the asset catalog as PASS / WARN /
FAIL. The older asset-check builders (`build_last_update_freshness_checks`, …) are marked superseded in
this version, so no freshness *checks* are built here.

The window for a cadence of `c` minutes (the schedule's interval; hourly by default, DESIGN "Triggers"):
- warn after `c + grace`: one tick is late (queued, slow or failed once);
- fail after `2c + grace`: a whole tick was missed;
- `grace = max(5 minutes, c / 4)` covers the run queue and the sync itself.

Limitation: the policy is evaluated per asset, not per partition. A synced asset is partitioned by
connection, so it is fresh while *any* connection syncs on time; a single stale connection shows in its
partition status, the connection's `last_sync_*` fields and the run-failure alerts instead.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

DEFAULT_CADENCE_MINUTES = 60
MIN_GRACE = timedelta(minutes=5)


def freshness_window(cadence_minutes: int = DEFAULT_CADENCE_MINUTES) -> tuple[timedelta, timedelta]:
    """(warn_window, fail_window) for a sync every `cadence_minutes`."""
    if cadence_minutes < 1:
        raise ValueError(f"cadence must be at least one minute, got {cadence_minutes}")
    cadence = timedelta(minutes=cadence_minutes)
    grace = max(MIN_GRACE, cadence / 4)
    return cadence + grace, 2 * cadence + grace


def freshness_for(cadence_minutes: int = DEFAULT_CADENCE_MINUTES) -> dg.FreshnessPolicy:
    """The freshness policy for an asset synced every `cadence_minutes` (pass to `AssetSpec`)."""
    warn, fail = freshness_window(cadence_minutes)
    return dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=warn)
