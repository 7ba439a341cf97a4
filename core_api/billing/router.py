"""Engagements, invoices, payments and allocations (issue 3). Built out by the billing work."""

from fastapi import APIRouter

from core_api.http import COMMON_ERRORS

router = APIRouter(prefix="/api/v1", tags=["billing"], responses=COMMON_ERRORS)
