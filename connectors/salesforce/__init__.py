"""Salesforce connector: one org's accounts, contacts, leads and opportunities through simple-salesforce over
https (incremental on SystemModstamp with queryMore paging, deletions from getDeleted, the API-usage
margin), leads and contacts upserted on an external-id field."""

from connectors.salesforce.client import STREAMS, SalesforceClient, SalesforceStream
from connectors.salesforce.config import SalesforceConfig, SalesforceCredentials
from connectors.salesforce.transport import ApiLimitExceeded, ApiUsageNearLimit

__all__ = [
    "STREAMS",
    "ApiLimitExceeded",
    "ApiUsageNearLimit",
    "SalesforceClient",
    "SalesforceConfig",
    "SalesforceCredentials",
    "SalesforceStream",
]
