"""Scrubbing secrets out of text and structures before they are logged or sent to Sentry (ADR 0019).

Secrets are SecretStr in settings and never formatted on purpose; this is the second lock, for the
accidents: a vendor's error echoing a token, an exception message quoting a URL with a password, a
request's Authorization header in an error report.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"

# Keys whose values are secret wherever they appear (headers, form fields, JSON bodies, sentry extras).
SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[-_]?key|authori[sz]ation|cookie|credential|private[-_]?key|dsn|"
    r"signature|session)",
    re.IGNORECASE,
)
_PATTERNS = [
    # Authorization: Bearer <token> / Basic <b64>
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1 " + REDACTED),
    # key=value and "key": "value" pairs whose key names a secret
    (
        re.compile(
            r"""(?P<key>["']?[\w-]*(?:pass(?:word|wd)?|secret|token|api[-_]?key|authori[sz]ation|credential)"""
            r"""[\w-]*["']?\s*[:=]\s*)(?P<q>["']?)[^\s"'&,;}]+(?P=q)""",
            re.IGNORECASE,
        ),
        r"\g<key>\g<q>" + REDACTED + r"\g<q>",
    ),
    # user:password@ in URLs (database URLs, DSNs)
    (
        re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+):[^@\s/]+@", re.IGNORECASE),
        r"\g<scheme>:" + REDACTED + "@",
    ),
]


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of `value` with secret-named keys' values replaced and secrets in strings scrubbed."""
    if _depth > 20:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and SECRET_KEY.search(k) and v else redact(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        items = [redact(v, _depth + 1) for v in value]
        # headers arrive as [name, value] pairs
        if len(items) == 2 and isinstance(items[0], str) and SECRET_KEY.search(items[0]):
            items[1] = REDACTED
        return type(value)(items) if isinstance(value, tuple) else items
    return value
