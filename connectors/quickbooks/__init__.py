"""QuickBooks Online connector: customers, invoices, payments, credit memos, items and accounts pulled,
customers and invoices pushed, through python-quickbooks and intuit-oauth."""

from connectors.quickbooks.client import Changes, EntityStream, QuickBooksClient
from connectors.quickbooks.config import (
    QuickBooksAccountingMapping,
    QuickBooksConfig,
    QuickBooksCredentials,
    QuickBooksRef,
)
from connectors.quickbooks.entities import STREAMS
from connectors.quickbooks.mapping import customer_to_client, customer_to_row
from connectors.quickbooks.paging import EntityPager
from connectors.quickbooks.transport import QuickBooksFault

__all__ = [
    "STREAMS",
    "Changes",
    "EntityPager",
    "EntityStream",
    "QuickBooksAccountingMapping",
    "QuickBooksClient",
    "QuickBooksConfig",
    "QuickBooksCredentials",
    "QuickBooksFault",
    "QuickBooksRef",
    "customer_to_client",
    "customer_to_row",
]
