"""What the Slack emulator remembers: workspaces (teams) with their app installation, channels, posted
messages, bot tokens, OAuth codes, limits and slash-command deliveries."""

from __future__ import annotations

import itertools
import random
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.faults import FaultInjector
from connectors.sandbox.common.rate_limit import SlidingWindowLimiter
from connectors.sandbox.settings import SandboxSettings

_ID_ALPHABET = string.ascii_uppercase + string.digits


def slack_id(prefix: str, length: int = 10, rng: random.Random | None = None) -> str:
    """Slack ids are a type letter (T team, C channel, U user, B bot, A app) and upper-case alphanumerics.
    With `rng` (the demo workspace) they are the same after every restart."""
    choose = rng.choice if rng is not None else secrets.choice
    return prefix + "".join(choose(_ID_ALPHABET) for _ in range(length))


@dataclass
class Limits:
    """Requests per minute per Web API tier, per method and workspace ("Rate limits",
    https://api.slack.com/docs/rate-limits: tier 2 20+/min, tier 3 50+/min, tier 4 100+/min), and
    chat.postMessage's special limit: about one message per second per channel."""

    tier2_per_minute: int
    tier3_per_minute: int
    tier4_per_minute: int
    post_messages_per_second: int


@dataclass
class Channel:
    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = True
    topic: str = ""
    purpose: str = ""
    num_members: int = 1
    messages: list[dict[str, Any]] = field(default_factory=list)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    def next_ts(self, now: float) -> str:
        # Message ts: epoch seconds "." six digits, unique within the channel.
        return f"{int(now)}.{next(self._ts):06d}"

    def as_conversation(self) -> dict[str, Any]:
        """A conversation object as conversations.list / conversations.info return it
        (https://api.slack.com/types/conversation)."""
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": None,
            "updated": self.created * 1000,
            "parent_conversation": None,
            "creator": self.creator,
            "is_ext_shared": False,
            "shared_team_ids": [],
            "pending_connected_team_ids": [],
            "is_member": self.is_member,
            "topic": {"value": self.topic, "creator": self.creator if self.topic else "", "last_set": 0},
            "purpose": {
                "value": self.purpose,
                "creator": self.creator if self.purpose else "",
                "last_set": 0,
            },
            "previous_names": [],
            "num_members": self.num_members,
        }


@dataclass
class Workspace:
    team_id: str
    name: str
    domain: str
    signing_secret: str
    app_id: str
    bot_user_id: str
    bot_id: str
    limits: Limits
    channels: dict[str, Channel] = field(default_factory=dict)

    def channel(self, ref: str) -> Channel | None:
        """chat.postMessage accepts a channel id or a name (with or without `#`)."""
        if ref in self.channels:
            return self.channels[ref]
        name = ref.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == name), None)


@dataclass
class BotToken:
    token: str
    team_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass
class AuthorizationCode:
    team_id: str
    client_id: str
    redirect_uri: str | None
    scopes: tuple[str, ...]
    expires_at: float


class SlackState:
    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.workspaces: dict[str, Workspace] = {}
        self.tokens: dict[str, BotToken] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.limiter = SlidingWindowLimiter(clock)
        self.faults = FaultInjector()
        self.throttled: dict[str, int] = {}
        self.slash_deliveries: list[dict[str, Any]] = []
        self._delivery_ids = itertools.count(1)
        self._seed_demo()

    def now(self) -> float:
        return self.clock.now()

    def next_delivery_id(self) -> int:
        return next(self._delivery_ids)

    def _seed_demo(self) -> None:
        s = self.settings
        rng = random.Random(s.slack_demo_team_id)  # noqa: S311 - stable demo ids, not secrets
        demo = self.add_workspace(
            s.slack_demo_team_name,
            team_id=s.slack_demo_team_id,
            signing_secret=s.slack_demo_signing_secret.get_secret_value(),
            rng=rng,
        )
        for name in s.slack_demo_channels:
            self.add_channel(demo, name, rng=rng)
        self.tokens[s.slack_demo_bot_token.get_secret_value()] = BotToken(
            s.slack_demo_bot_token.get_secret_value(), demo.team_id, DEFAULT_BOT_SCOPES
        )

    def add_workspace(
        self,
        name: str,
        *,
        team_id: str | None = None,
        signing_secret: str | None = None,
        rng: random.Random | None = None,
    ) -> Workspace:
        s = self.settings
        team_id = team_id or slack_id("T")
        domain = "".join(ch for ch in name.lower().replace(" ", "-") if ch.isalnum() or ch == "-")[:21]
        workspace = Workspace(
            team_id=team_id,
            name=name,
            domain=domain or team_id.lower(),
            signing_secret=signing_secret or secrets.token_hex(16),
            app_id=s.slack_app_id,
            bot_user_id=slack_id("U", rng=rng),
            bot_id=slack_id("B", rng=rng),
            limits=Limits(
                s.slack_tier2_per_minute,
                s.slack_tier3_per_minute,
                s.slack_tier4_per_minute,
                s.slack_post_messages_per_second,
            ),
        )
        self.workspaces[team_id] = workspace
        return workspace

    def add_channel(
        self, workspace: Workspace, name: str, *, rng: random.Random | None = None, **flags: Any
    ) -> Channel:
        channel = Channel(
            id=slack_id("C", rng=rng),
            name=name,
            created=int(self.now()),
            creator=workspace.bot_user_id,
            **flags,
        )
        workspace.channels[channel.id] = channel
        return channel

    def issue_token(self, workspace: Workspace, scopes: tuple[str, ...] = ()) -> BotToken:
        # `xoxb-`, numeric team and bot parts, a secret (api.slack.com/authentication/token-types)
        numbers = f"{secrets.randbelow(10**12):012d}-{secrets.randbelow(10**13):013d}"
        token = f"xoxb-{numbers}-{secrets.token_urlsafe(18)}"
        grant = BotToken(token, workspace.team_id, scopes or DEFAULT_BOT_SCOPES)
        self.tokens[token] = grant
        return grant

    def revoke_tokens(self, team_id: str, token: str | None = None) -> int:
        revoked = 0
        for grant in self.tokens.values():
            if grant.team_id == team_id and (token is None or grant.token == token) and not grant.revoked:
                grant.revoked = True
                revoked += 1
        return revoked


DEFAULT_BOT_SCOPES = ("chat:write", "channels:read", "commands")
