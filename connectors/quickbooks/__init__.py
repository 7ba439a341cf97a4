"""QuickBooks Online connector: the Customer stream through python-quickbooks and intuit-oauth."""

from connectors.quickbooks.client import CustomerPager, CustomerStream, QuickBooksClient
from connectors.quickbooks.config import QuickBooksConfig, QuickBooksCredentials
from connectors.quickbooks.mapping import customer_to_client, customer_to_row

__all__ = [
    "CustomerPager",
    "CustomerStream",
    "QuickBooksClient",
    "QuickBooksConfig",
    "QuickBooksCredentials",
    "customer_to_client",
    "customer_to_row",
]
