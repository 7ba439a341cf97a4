"""Every router the app serves, in one list (the permission-matrix and cross-firm tests walk them all)."""

from core_api.auth.operator import router as operator_router
from core_api.auth.router import router as auth_router
from core_api.billing.router import router as billing_router
from core_api.calendar.router import router as calendar_router
from core_api.clients.router import contacts_router
from core_api.clients.router import router as clients_router
from core_api.connections.router import router as connections_router
from core_api.documents.router import router as documents_router
from core_api.health import router as health_router
from core_api.leads.router import router as leads_router
from core_api.oauth.router import router as oauth_router
from core_api.slack_commands.router import router as slack_commands_router
from core_api.team.router import router as team_router
from core_api.webhooks.router import router as webhooks_router

ROUTERS = [
    health_router,
    auth_router,
    operator_router,
    clients_router,
    contacts_router,
    leads_router,
    calendar_router,
    team_router,
    connections_router,
    oauth_router,
    billing_router,
    documents_router,
    webhooks_router,
    slack_commands_router,
]
