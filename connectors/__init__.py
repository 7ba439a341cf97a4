"""Vendor connectors: pure clients and mapping functions, a leaf of the dependency graph.

Kept import-free on purpose: `connectors.sandbox` lives in this package too and must not pull in
any vendor SDK. Import what you need from `connectors.base`, `connectors.registry`, or a vendor
package such as `connectors.quickbooks`.
"""
