from __future__ import annotations

import dagster as dg

from pipelines.assets.quickbooks import APP_CLIENTS, CUSTOMERS

quickbooks_sync_job = dg.define_asset_job(
    "quickbooks_sync_job",
    selection=dg.AssetSelection.assets(CUSTOMERS, APP_CLIENTS),
    description="Sync one QuickBooks connection: customers into the warehouse, then into app.clients.",
)

SYNC_JOBS: dict[str, dg.UnresolvedAssetJobDefinition] = {"quickbooks": quickbooks_sync_job}
