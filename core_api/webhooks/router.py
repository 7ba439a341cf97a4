"""Webhook intake `POST /webhooks/{provider}` (issue 3). Built out by the webhooks work."""

from fastapi import APIRouter

router = APIRouter(tags=["webhooks"])
