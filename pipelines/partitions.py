"""One dynamic partition per connection, per provider (a QuickBooks asset never sees a Xero key).

The `connection_partitions` sensor keeps each set equal to the provider's live connections.
"""

from __future__ import annotations

import dagster as dg

quickbooks_connections = dg.DynamicPartitionsDefinition(name="quickbooks_connections")
xero_connections = dg.DynamicPartitionsDefinition(name="xero_connections")
google_calendar_connections = dg.DynamicPartitionsDefinition(name="google_calendar_connections")
microsoft_calendar_connections = dg.DynamicPartitionsDefinition(name="microsoft_calendar_connections")
active_directory_connections = dg.DynamicPartitionsDefinition(name="active_directory_connections")
salesforce_connections = dg.DynamicPartitionsDefinition(name="salesforce_connections")
slack_connections = dg.DynamicPartitionsDefinition(name="slack_connections")  # notification delivery
stripe_connections = dg.DynamicPartitionsDefinition(name="stripe_connections")

BY_PROVIDER: dict[str, dg.DynamicPartitionsDefinition] = {
    "quickbooks": quickbooks_connections,
    "xero": xero_connections,
    "google_calendar": google_calendar_connections,
    "microsoft_calendar": microsoft_calendar_connections,
    "active_directory": active_directory_connections,
    "salesforce": salesforce_connections,
    "slack": slack_connections,
    "stripe": stripe_connections,
}
