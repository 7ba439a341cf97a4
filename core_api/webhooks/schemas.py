from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class WebhookReceipt(BaseModel):
    """The acknowledgement of a verified event (vendors that need a particular answer get theirs instead:
    Xero an empty body, Twilio empty TwiML, handshakes their challenge)."""

    provider: str
    event_id: str = Field(
        description="The vendor's event id, or `sha256:<hex>` of the body when it sends none."
    )
    status: Literal["stored", "duplicate"] = Field(
        description="`duplicate`: this event was already in the inbox; nothing new was written."
    )
