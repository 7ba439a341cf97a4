"""Folders, documents and immutable versions in S3 (issue 3). Built out by the documents work."""

from fastapi import APIRouter

from core_api.http import COMMON_ERRORS

router = APIRouter(prefix="/api/v1", tags=["documents"], responses=COMMON_ERRORS)
