"""Microsoft Graph v1.0, the calendar part (learn.microsoft.com/graph/api/resources/event), for the signed-in
user (`/me/…`) or any user of the token's tenant (`/users/{id | userPrincipalName}/…`, app-only tokens):

- `GET …/calendarView/delta` (see `delta`), `GET …/events/{id}`, `POST …/events` (201), `PATCH
  …/events/{id}` with `If-Match: W/"<changeKey>"` (412 when the change key is stale; without If-Match the
  last writer wins, as in Graph), `DELETE …/events/{id}` (204), `GET /me` and `GET /users/{id}`.
- `GET /organization` (the token's tenant: `id`, `displayName`, `verifiedDomains`).
- `POST /subscriptions` (validation handshake, see `subscriptions`), `GET`/`DELETE /subscriptions/{id}`.

A create with a `transactionId` already used by one of the mailbox's events returns that event (Graph's guard
against a retried POST). Every write gives the event a new `changeKey` (and `@odata.etag` `W/"<changeKey>"`).
"""

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from connectors.sandbox.microsoft import delta, errors, subscriptions
from connectors.sandbox.microsoft.events import new_event, patched
from connectors.sandbox.microsoft.gateway import CLAIMS_SCOPE_KEY
from connectors.sandbox.microsoft.identity import mount_url
from connectors.sandbox.microsoft.state import MicrosoftState, User

PREFIXES = ("/v1.0/me", "/v1.0/users/{user_key}")


def _strip_etag(value: str) -> str:
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def profile(user: User) -> dict[str, Any]:
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        "id": user.id,
        "userPrincipalName": user.upn,
        "displayName": user.display_name,
        "mail": user.upn,
    }


def graph_router(state: MicrosoftState) -> APIRouter:
    router = APIRouter(tags=["Microsoft Graph v1.0"])
    tokens = delta.DeltaTokens(state.secret)

    def mailbox(request: Request) -> tuple[User, dict]:
        claims = request.scope[CLAIMS_SCOPE_KEY]
        key = request.path_params.get("user_key")
        if key is None:
            if not claims.get("oid"):
                raise errors.bad_request("/me request is only valid with delegated authentication flow.")
            user = state.find_user(claims["oid"])
        else:
            user = state.user(claims["tid"], key)
            if user is not None and claims.get("oid") and claims["oid"] != user.id:
                raise errors.GraphError(
                    403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
                )
        if user is None:
            raise errors.GraphError(404, "ResourceNotFound", "Resource could not be discovered.")
        return user, claims

    def event_of(user: User, event_id: str) -> dict[str, Any]:
        event = user.events.get(event_id)
        if event is None:
            raise errors.not_found()
        return event

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise errors.bad_request("Unable to read JSON request payload.", "RequestBodyRead") from None
        if not isinstance(body, dict):
            raise errors.bad_request("The request body must be a JSON object.", "RequestBodyRead")
        return body

    async def me(request: Request) -> dict:
        return profile(mailbox(request)[0])

    async def calendar_view_delta(request: Request) -> JSONResponse:
        user, _ = mailbox(request)
        size = delta.page_size(request.headers.get("prefer"))
        link_base = f"{mount_url(request)}{request.url.path[len(request.scope.get('root_path', '')) :]}"
        body = delta.delta_page(state, tokens, user, dict(request.query_params), link_base, size)
        headers = (
            {"Preference-Applied": f"odata.maxpagesize={size}"}
            if "maxpagesize" in (request.headers.get("prefer") or "")
            else {}
        )
        return JSONResponse(body, headers=headers)

    async def get_event(request: Request, event_id: str) -> dict:
        user, _ = mailbox(request)
        return event_of(user, event_id)

    async def create_event(request: Request) -> JSONResponse:
        user, _ = mailbox(request)
        body = await json_body(request)
        transaction = body.get("transactionId")
        if transaction:
            # A retried create (its answer was lost): Graph returns the event the first attempt made.
            earlier = next((e for e in user.events.values() if e.get("transactionId") == transaction), None)
            if earlier is not None:
                return JSONResponse(earlier, 201)
        event = new_event(user, body, "https://outlook.office365.com")
        return JSONResponse(state.put_event(user, event, notify="created"), 201)

    async def update_event(request: Request, event_id: str) -> dict:
        user, _ = mailbox(request)
        event = event_of(user, event_id)
        if_match = request.headers.get("if-match")
        if if_match is not None and if_match.strip() != "*" and _strip_etag(if_match) != event["changeKey"]:
            raise errors.precondition_failed()
        return state.put_event(user, patched(event, await json_body(request)), notify="updated")

    async def delete_event(request: Request, event_id: str) -> Response:
        user, _ = mailbox(request)
        event = event_of(user, event_id)
        if_match = request.headers.get("if-match")
        if if_match is not None and if_match.strip() != "*" and _strip_etag(if_match) != event["changeKey"]:
            raise errors.precondition_failed()
        state.delete_event(user, event_id)
        return Response(status_code=204)

    for prefix in PREFIXES:
        router.add_api_route(prefix, me, methods=["GET"], summary="The user's profile")
        router.add_api_route(
            f"{prefix}/calendarView/delta",
            calendar_view_delta,
            methods=["GET"],
            summary="event: delta (calendarView)",
        )
        router.add_api_route(f"{prefix}/events", create_event, methods=["POST"], summary="Create event")
        router.add_api_route(
            f"{prefix}/calendar/events", create_event, methods=["POST"], summary="Create event"
        )
        router.add_api_route(f"{prefix}/events/{{event_id}}", get_event, methods=["GET"], summary="Get event")
        router.add_api_route(
            f"{prefix}/events/{{event_id}}", update_event, methods=["PATCH"], summary="Update event"
        )
        router.add_api_route(
            f"{prefix}/events/{{event_id}}", delete_event, methods=["DELETE"], summary="Delete event"
        )

    @router.get("/v1.0/organization", summary="The signed-in tenant")
    async def organization(request: Request) -> dict:
        claims = request.scope[CLAIMS_SCOPE_KEY]
        tenant = state.tenants.get(claims["tid"])
        if tenant is None:
            raise errors.GraphError(404, "ResourceNotFound", "Resource could not be discovered.")
        return {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization",
            "value": [
                {
                    "id": tenant.id,
                    "displayName": tenant.domain.split(".")[0],
                    "verifiedDomains": [{"name": tenant.domain, "isDefault": True, "isInitial": True}],
                }
            ],
        }

    @router.post("/v1.0/subscriptions", status_code=201, summary="Create subscription")
    async def create_subscription(request: Request) -> JSONResponse:
        claims = request.scope[CLAIMS_SCOPE_KEY]
        body = await json_body(request)
        resource = str(body.get("resource") or "").strip("/")
        parts = resource.split("/")
        if len(parts) >= 2 and parts[0].lower() == "users":
            user = state.user(claims["tid"], parts[1])
        else:
            user = state.find_user(claims.get("oid") or "")
        if user is None:
            raise errors.bad_request(f"Resource '{resource}' is not supported.", "InvalidRequest")
        subscription = await subscriptions.create(state, user, claims["aud"], body)
        return JSONResponse(subscription.as_json(), 201)

    @router.get("/v1.0/subscriptions/{subscription_id}", summary="Get subscription")
    async def get_subscription(subscription_id: str) -> dict:
        found = state.subscriptions.get(subscription_id)
        if found is None:
            raise errors.GraphError(404, "ResourceNotFound", "The object was not found.")
        return found.as_json()

    @router.delete("/v1.0/subscriptions/{subscription_id}", status_code=204, summary="Delete subscription")
    async def delete_subscription(subscription_id: str) -> Response:
        if state.subscriptions.pop(subscription_id, None) is None:
            raise errors.GraphError(404, "ResourceNotFound", "The object was not found.")
        return Response(status_code=204)

    return router
