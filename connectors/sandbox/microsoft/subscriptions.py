"""Change notifications (learn.microsoft.com/graph/change-notifications-delivery-webhooks).

Creating a subscription: Graph POSTs to `notificationUrl?validationToken=<token>` (Content-Type text/plain)
and expects, within 10 seconds, 200 OK with the token (URL-decoded) as a text/plain body; anything else fails
the request with 400 "Subscription validation request failed". Events allow at most 4230 minutes (under three
days) of life. Afterwards every change to a subscribed mailbox's events POSTs `{"value": [notification]}` with
`subscriptionId`, `changeType`, `resource`, `resourceData` (id and etag only), `clientState` and `tenantId`,
expecting a 2xx within 3 seconds.
"""

import asyncio
import logging
import secrets
from datetime import UTC, datetime, timedelta

import httpx

from connectors.sandbox.microsoft import errors
from connectors.sandbox.microsoft.state import MicrosoftState, Subscription, User

log = logging.getLogger("sandbox.microsoft")

MAX_EVENT_MINUTES = 4230
CHANGE_TYPES = {"created", "updated", "deleted"}
_pending: set[asyncio.Task] = set()


async def validate(state: MicrosoftState, url: str) -> None:
    token = (
        "Validation: Testing client application reachability for subscription Request-Id: "
        + secrets.token_hex(8)
    )
    try:
        async with httpx.AsyncClient(timeout=state.settings.microsoft_validation_timeout_seconds) as client:
            response = await client.post(
                url, params={"validationToken": token}, headers={"Content-Type": "text/plain; charset=utf-8"}
            )
    except httpx.HTTPError as error:
        raise errors.bad_request(
            f"Subscription validation request failed. Notification endpoint must respond with 200 OK to "
            f"validation request ({type(error).__name__}).",
            "InvalidRequest",
        ) from None
    if response.status_code != 200 or response.text != token:
        raise errors.bad_request(
            "Subscription validation request failed. Response must exactly match validationToken query "
            f"parameter (HTTP {response.status_code}).",
            "InvalidRequest",
        )


async def create(state: MicrosoftState, user: User, client_id: str, body: dict) -> Subscription:
    resource = str(body.get("resource") or "").strip("/")
    url = str(body.get("notificationUrl") or "")
    change_types = {c.strip() for c in str(body.get("changeType") or "").split(",") if c.strip()}
    if not change_types or not change_types <= CHANGE_TYPES:
        raise errors.bad_request("changeType must be created, updated and/or deleted.", "InvalidRequest")
    if resource.lower() not in ("me/events", f"users/{user.id}/events".lower(), f"users/{user.upn}/events"):
        raise errors.bad_request(f"Resource '{resource}' is not supported.", "InvalidRequest")
    if not url.startswith(("https://", "http://")):
        raise errors.bad_request("notificationUrl must be an https URL.", "InvalidRequest")
    try:
        expiry = datetime.fromisoformat(str(body.get("expirationDateTime")).replace("Z", "+00:00"))
    except ValueError:
        raise errors.bad_request("expirationDateTime is not a date.", "InvalidRequest") from None
    now = datetime.fromtimestamp(state.clock.now(), UTC)
    if expiry.tzinfo is None or expiry <= now or expiry > now + timedelta(minutes=MAX_EVENT_MINUTES):
        raise errors.bad_request(
            f"Subscription expiration can only be {MAX_EVENT_MINUTES} minutes in the future.",
            "InvalidRequest",
        )
    client_state = body.get("clientState")
    if client_state is not None and len(str(client_state)) > 128:
        raise errors.bad_request("clientState is limited to 128 characters.", "InvalidRequest")
    await validate(state, url)
    subscription = Subscription(
        id=f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-"
        f"{secrets.token_hex(6)}",
        tenant_id=user.tenant_id,
        user_id=user.id,
        client_id=client_id,
        resource=resource,
        change_types=change_types,
        notification_url=url,
        client_state=None if client_state is None else str(client_state),
        expiration=expiry.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    )
    state.subscriptions[subscription.id] = subscription
    return subscription


def notifier(state: MicrosoftState):
    """The state's `on_change`: one notification per matching subscription, sent in the background."""

    def on_change(user: User, event_id: str, change_type: str) -> None:
        now = datetime.fromtimestamp(state.clock.now(), UTC)
        for sub in list(state.subscriptions.values()):
            if sub.user_id != user.id or change_type not in sub.change_types:
                continue
            if datetime.fromisoformat(sub.expiration.replace("Z", "+00:00")) <= now:
                continue
            event = user.events.get(event_id) or {}
            notification = {
                "subscriptionId": sub.id,
                "subscriptionExpirationDateTime": sub.expiration,
                "changeType": change_type,
                "resource": f"Users/{user.id}/Events/{event_id}",
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.Event",
                    "@odata.id": f"Users/{user.id}/Events/{event_id}",
                    "@odata.etag": event.get("@odata.etag"),
                    "id": event_id,
                },
                "clientState": sub.client_state,
                "tenantId": user.tenant_id,
            }
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                continue  # no server loop (an in-process caller): nothing can be delivered
            task = loop.create_task(_deliver(state, sub.notification_url, notification))
            _pending.add(task)  # the loop holds tasks weakly
            task.add_done_callback(_pending.discard)

    return on_change


async def _deliver(state: MicrosoftState, url: str, notification: dict) -> None:
    outcome = "unanswered"
    try:
        async with httpx.AsyncClient(timeout=state.settings.microsoft_notification_timeout_seconds) as client:
            response = await client.post(url, json={"value": [notification]})
            outcome = str(response.status_code)
    except httpx.HTTPError as error:
        outcome = type(error).__name__
        log.warning("notification to %s failed: %s", url, outcome)
    state.notifications_sent.append({"url": url, "outcome": outcome, "notification": notification})
