"""Webhook verifiers against the vendors' own published examples and formulas.

Expected signatures are computed here from each vendor's documented formula (hashlib/hmac directly) or
copied from the vendor's documentation, never by calling the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest

from connectors import registry
from connectors.base import AuthError
from connectors.webhooks import (
    VERIFIERS,
    SignatureError,
    UnknownWebhookProviderError,
    WebhookKey,
    WebhookRequest,
    verifier_for,
    webhook_providers,
)
from connectors.webhooks.base import matches_any

NOW = 1_717_000_000
TOLERANCE = 300


def b64_hmac(secret: str, message: bytes, digest=hashlib.sha256) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, digest).digest()).decode()


def hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(provider: str, request: WebhookRequest, secret: str, *, url: str | None = None, now: float = NOW):
    verifier_for(provider).verify(request, WebhookKey(secret, url), now=now, tolerance=TOLERANCE)


def rejects(provider: str, request: WebhookRequest, secret: str, match: str, **kwargs) -> None:
    with pytest.raises(SignatureError, match=match):
        verify(provider, request, secret, **kwargs)


# --------------------------------------------------------------------------- registry


def test_every_provider_has_a_verifier_and_a_connection_spec_holding_its_key():
    assert webhook_providers() == [
        "docusign",
        "microsoft_calendar",
        "quickbooks",
        "slack",
        "square",
        "stripe",
        "twilio",
        "xero",
    ]
    for provider, verifier in VERIFIERS.items():
        spec = registry.get_connector(provider)
        assert verifier.key_field in spec.credentials_model.model_fields
        if verifier.url_field:
            assert verifier.url_field in spec.config_model.model_fields
    with pytest.raises(UnknownWebhookProviderError):
        verifier_for("myspace")


@pytest.mark.parametrize(
    ("provider", "config", "account"),
    [
        ("square", {"merchant_id": "6SSW7HV8K2ST5", "environment": "sandbox"}, "6SSW7HV8K2ST5"),
        ("twilio", {"account_sid": "AC" + "a" * 32}, "AC" + "a" * 32),
        (
            "docusign",
            {"account_id": "5e8b2d3c-9f1a-4c6e-8d7b-1a2b3c4d5e6f"},
            "5e8b2d3c-9f1a-4c6e-8d7b-1a2b3c4d5e6f",
        ),
    ],
)
def test_new_connectors_validate_their_config_and_name_the_account(provider, config, account):
    spec = registry.get_connector(provider)
    assert spec.account_id(spec.config_model.model_validate(config)) == account
    assert spec.streams == ()
    schema = spec.form_schema()
    assert all("title" in field for field in schema["config"]["properties"].values())
    secret_field = VERIFIERS[provider].key_field
    assert schema["credentials"]["properties"][secret_field]["format"] == "password"
    with pytest.raises(NotImplementedError, match="no sync client"):
        spec.build_client(spec.config_model.model_validate(config), None, on_tokens=lambda _: None)  # type: ignore[arg-type]
    if provider == "square":
        assert spec.config_model.model_validate(config).api_base_url == "https://connect.squareupsandbox.com"


def test_slack_connections_keep_their_webhook_fields_and_now_post():
    spec = registry.get_connector("slack")
    config = spec.config_model.model_validate({"team_id": "T0001ABCD"})
    assert spec.account_id(config) == "T0001ABCD" and config.api_base_url == "https://slack.com/api"
    assert config.channel is None and spec.streams == () and spec.oauth is not None
    schema = spec.form_schema()
    assert all("title" in field for field in schema["config"]["properties"].values())
    assert schema["credentials"]["properties"][VERIFIERS["slack"].key_field]["format"] == "password"
    credentials = spec.credentials_model.model_validate({"signing_secret": "s"})
    client = spec.build_client(config, credentials, on_tokens=lambda _: None)
    with pytest.raises(AuthError, match="no bot token"):
        client.post_notification("hello", channel="general")


def test_stripe_connections_keep_their_webhook_fields_and_now_sync():
    spec = registry.get_connector("stripe")
    config = spec.config_model.model_validate({"account_id": "acct_1Nv0FGQ9RKHgCVdK"})
    assert (
        spec.account_id(config) == "acct_1Nv0FGQ9RKHgCVdK" and config.api_base_url == "https://api.stripe.com"
    )
    assert "charges" in spec.streams
    schema = spec.form_schema()
    assert all("title" in field for field in schema["config"]["properties"].values())
    assert schema["credentials"]["properties"]["webhook_signing_secret"]["format"] == "password"
    # A connection saved when Stripe only sent webhooks (no API key) still validates.
    spec.credentials_model.model_validate({"webhook_signing_secret": "whsec_1"})
    with pytest.raises(ValueError, match="sk_"):
        spec.credentials_model.model_validate({"webhook_signing_secret": "whsec_1", "api_key": "pk_test_1"})


def test_quickbooks_credentials_accept_an_optional_verifier_token():
    from connectors.quickbooks.config import QuickBooksCredentials

    creds = QuickBooksCredentials.model_validate(
        {"client_secret": "s", "refresh_token": "r", "webhook_verifier_token": "verifier-0a9b8c"}
    )
    assert creds.webhook_verifier_token is not None and "verifier-0a9b8c" not in repr(creds)
    assert (
        QuickBooksCredentials.model_validate(
            {"client_secret": "s", "refresh_token": "r"}
        ).webhook_verifier_token
        is None
    )


# --------------------------------------------------------------------------- Stripe


STRIPE_SECRET = "whsec_test_5a1f0c2e9b8d7a6f"
STRIPE_BODY = json.dumps(
    {"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "object": "event", "type": "invoice.paid", "account": "acct_1"},
    indent=2,
).encode()


def stripe_request(body: bytes = STRIPE_BODY, *, t: int = NOW, header: str | None = None) -> WebhookRequest:
    signature = hex_hmac(STRIPE_SECRET, f"{t}.".encode() + body)
    return WebhookRequest(
        "https://api.example.com/webhooks/stripe",
        {"Stripe-Signature": header or f"t={t},v1={signature}", "Content-Type": "application/json"},
        body,
    )


def test_stripe_signed_payload_is_timestamp_dot_body():
    verify("stripe", stripe_request(), STRIPE_SECRET)
    event = verifier_for("stripe").parse(stripe_request())
    assert (event.event_id, event.event_type) == ("evt_1NG8Du2eZvKYlo2CUI79vXWy", "invoice.paid")
    assert verifier_for("stripe").account_hints(stripe_request()) == ("acct_1",)


def test_stripe_accepts_any_of_several_v1_signatures_and_ignores_v0():
    good = hex_hmac(STRIPE_SECRET, f"{NOW}.".encode() + STRIPE_BODY)
    verify("stripe", stripe_request(header=f"t={NOW},v1={'0' * 64},v1={good},v0={'1' * 64}"), STRIPE_SECRET)
    rejects("stripe", stripe_request(header=f"t={NOW},v0={good}"), STRIPE_SECRET, "no timestamp or no v1")


def test_stripe_rejects_tampering_a_wrong_secret_and_stale_or_future_timestamps():
    request = stripe_request()
    tampered = WebhookRequest(
        request.url, request.headers, STRIPE_BODY.replace(b"invoice.paid", b"invoice.void")
    )
    rejects("stripe", tampered, STRIPE_SECRET, "no v1 signature")
    rejects("stripe", request, "whsec_other", "no v1 signature")
    rejects("stripe", stripe_request(t=NOW - TOLERANCE - 1), STRIPE_SECRET, "tolerance")
    rejects("stripe", stripe_request(t=NOW + TOLERANCE + 1), STRIPE_SECRET, "tolerance")
    verify("stripe", stripe_request(t=NOW - TOLERANCE + 1), STRIPE_SECRET)
    rejects("stripe", WebhookRequest(request.url, {}, STRIPE_BODY), STRIPE_SECRET, "missing Stripe-Signature")


# --------------------------------------------------------------------------- Square


def test_square_signs_notification_url_plus_body():
    body = b'{"merchant_id":"6SSW7HV8K2ST5","type":"payment.updated","event_id":"13b867cf-db3d"}'
    url = "https://example.com/webhooks/square"
    request = WebhookRequest(
        url, {"x-square-hmacsha256-signature": b64_hmac("sq-key", url.encode() + body)}, body
    )
    verify("square", request, "sq-key")
    assert verifier_for("square").parse(request).event_id == "13b867cf-db3d"
    assert verifier_for("square").account_hints(request) == ("6SSW7HV8K2ST5",)
    # Behind a proxy the request URL differs; the connection's pinned notification URL is what counts.
    proxied = WebhookRequest("http://10.0.0.5:8000/webhooks/square", request.headers, body)
    rejects("square", proxied, "sq-key", "does not match")
    verify("square", proxied, "sq-key", url=url)
    rejects("square", request, "other-key", "does not match")


# --------------------------------------------------------------------------- Twilio


TWILIO_DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


def twilio_form(url: str, params: dict[str, str], signature: str) -> WebhookRequest:
    return WebhookRequest(
        url,
        {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        urlencode(params).encode(),
    )


def test_twilio_matches_the_documented_example():
    # Twilio's security guide: auth token 12345, this URL and these parameters sign to this value.
    request = twilio_form(
        "https://mycompany.com/myapp.php?foo=1&bar=2", TWILIO_DOC_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    verify("twilio", request, "12345")
    rejects("twilio", request, "54321", "does not match")
    tampered = twilio_form(
        request.url, {**TWILIO_DOC_PARAMS, "Digits": "9999"}, "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    rejects("twilio", tampered, "12345", "does not match")


def test_twilio_sorts_parameters_and_tolerates_an_explicit_default_port():
    params = {
        "To": "+15558675310",
        "AccountSid": "AC" + "1" * 32,
        "MessageStatus": "delivered",
        "Body": "a+b c",
    }
    signed = "https://hooks.example.com/twilio" + "".join(k + params[k] for k in sorted(params))
    signature = b64_hmac("tok", signed.encode(), hashlib.sha1)
    verify("twilio", twilio_form("https://hooks.example.com/twilio", params, signature), "tok")
    verify("twilio", twilio_form("https://hooks.example.com:443/twilio", params, signature), "tok")
    event = verifier_for("twilio").parse(twilio_form("https://hooks.example.com/twilio", params, signature))
    assert event.payload["Body"] == "a+b c" and event.event_type == "message.delivered"
    assert event.event_id.startswith("sha256:") and event.raw_body == urlencode(params)


def test_twilio_json_bodies_are_signed_through_body_sha256():
    body = b'{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}'
    url = "https://example.com/myapp?bodySHA256=" + hashlib.sha256(body).hexdigest()
    assert url.endswith(
        "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9"
    )  # Twilio's example
    headers = {
        "X-Twilio-Signature": b64_hmac("12345", url.encode(), hashlib.sha1),
        "Content-Type": "application/json",
    }
    verify("twilio", WebhookRequest(url, headers, body), "12345")
    rejects("twilio", WebhookRequest(url, headers, body.replace(b"CA1", b"CA9")), "12345", "bodySHA256")
    no_hash = "https://example.com/myapp"
    headers = {**headers, "X-Twilio-Signature": b64_hmac("12345", no_hash.encode(), hashlib.sha1)}
    rejects("twilio", WebhookRequest(no_hash, headers, body), "12345", "bodySHA256")


# --------------------------------------------------------------------------- DocuSign


def test_docusign_accepts_a_match_in_any_signature_header_and_dedupes_retries():
    message = {
        "event": "envelope-completed",
        "retryCount": 0,
        "configurationId": 10418,
        "generatedDateTime": "2024-03-05T17:49:34.1234567Z",
        "data": {"accountId": "5e8b2d3c-9f1a-4c6e-8d7b-1a2b3c4d5e6f", "envelopeId": "e1"},
    }
    body = json.dumps(message).encode()
    headers = {
        "X-DocuSign-Signature-1": b64_hmac("old-key", body),
        "X-DocuSign-Signature-2": b64_hmac("new", body),
    }
    verify("docusign", WebhookRequest("https://x/webhooks/docusign", headers, body), "new")
    rejects("docusign", WebhookRequest("https://x", headers, body + b" "), "new", "no X-DocuSign-Signature")
    rejects("docusign", WebhookRequest("https://x", {}, body), "new", "missing")
    first = verifier_for("docusign").parse(WebhookRequest("https://x", headers, body))
    retry = json.dumps({**message, "retryCount": 3}, indent=1).encode()
    assert (
        verifier_for("docusign").parse(WebhookRequest("https://x", headers, retry)).event_id == first.event_id
    )
    assert first.event_type == "envelope-completed"
    assert verifier_for("docusign").account_hints(WebhookRequest("https://x", headers, body)) == (
        "5e8b2d3c-9f1a-4c6e-8d7b-1a2b3c4d5e6f",
    )


# --------------------------------------------------------------------------- Intuit and Xero


@pytest.mark.parametrize(
    ("provider", "header"), [("quickbooks", "intuit-signature"), ("xero", "x-xero-signature")]
)
def test_body_hmac_sha256_base64(provider, header):
    body = b'{"eventNotifications":[{"realmId":"4620816365000000001"}],"events":[]}'
    request = WebhookRequest("https://x", {header: b64_hmac("verifier", body)}, body)
    verify(provider, request, "verifier")
    rejects(provider, request, "another", "does not match")
    rejects(provider, WebhookRequest("https://x", request.headers, body[:-1]), "verifier", "does not match")
    rejects(provider, WebhookRequest("https://x", {}, body), "verifier", "missing")


def test_quickbooks_reads_both_payload_shapes():
    qbo = verifier_for("quickbooks")
    legacy = WebhookRequest(
        "https://x",
        {},
        b'{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":'
        b'[{"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}',
    )
    assert qbo.account_hints(legacy) == ("1185883450",)
    assert qbo.parse(legacy).event_type == "Customer.Create" and qbo.parse(legacy).event_id.startswith(
        "sha256:"
    )
    cloud = WebhookRequest(
        "https://x",
        {},
        b'[{"specversion":"1.0","id":"ev-123-Customer-58","type":"qbo.customer.created.v1",'
        b'"intuitentityid":"58","intuitaccountid":"9341455","data":{}}]',
    )
    assert qbo.account_hints(cloud) == ("9341455",)
    assert (qbo.parse(cloud).event_id, qbo.parse(cloud).event_type) == (
        "ev-123-Customer-58",
        "qbo.customer.created.v1",
    )


def test_xero_intent_to_receive_is_a_handshake_and_events_are_not():
    xero = verifier_for("xero")
    itr = WebhookRequest(
        "https://x", {}, b'{"events":[],"lastEventSequence":0,"firstEventSequence":0,"entropy":"S0m"}'
    )
    assert xero.handshake(itr) is not None and xero.handshake(itr).body == b""
    event = WebhookRequest(
        "https://x",
        {},
        b'{"events":[{"tenantId":"0c5d0b46-2b7a-4c3e-9d6f-4f1e2a3b4c5d","eventCategory":"INVOICE",'
        b'"eventType":"UPDATE"}],"firstEventSequence":1,"lastEventSequence":1,"entropy":"X"}',
    )
    assert xero.handshake(event) is None and xero.parse(event).event_type == "INVOICE.UPDATE"
    assert xero.account_hints(event) == ("0c5d0b46-2b7a-4c3e-9d6f-4f1e2a3b4c5d",)


# --------------------------------------------------------------------------- Slack


SLACK_DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)


def test_slack_matches_the_documented_example_within_five_minutes():
    # Slack's "Verifying requests from Slack" worked example.
    request = WebhookRequest(
        "https://x/webhooks/slack",
        {
            "X-Slack-Request-Timestamp": "1531420618",
            "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        SLACK_DOC_BODY,
    )
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    verify("slack", request, secret, now=1531420618 + 299)
    rejects("slack", request, secret, "tolerance", now=1531420618 + 301)
    rejects("slack", request, "another-secret", "does not match", now=1531420618)
    slack = verifier_for("slack")
    assert slack.account_hints(request) == ("T1DC2JH3J",)
    assert slack.parse(request).event_type == "slash_command" and slack.handshake(request) is None


def test_slack_url_verification_echoes_the_challenge_and_events_use_event_id():
    slack = verifier_for("slack")
    challenge = WebhookRequest(
        "https://x", {}, b'{"token":"t","challenge":"3eZbrw1aBm2rZgRN","type":"url_verification"}'
    )
    reply = slack.handshake(challenge)
    assert reply is not None and json.loads(reply.body) == {"challenge": "3eZbrw1aBm2rZgRN"}
    event = WebhookRequest(
        "https://x",
        {},
        b'{"team_id":"T0001ABCD","event":{"type":"app_mention"},"type":"event_callback","event_id":"Ev0LAN670R"}',
    )
    assert slack.handshake(event) is None
    assert (slack.parse(event).event_id, slack.parse(event).event_type) == ("Ev0LAN670R", "app_mention")


# --------------------------------------------------------------------------- helpers


def test_comparisons_never_raise_on_hostile_header_values_and_hints_ignore_garbage():
    assert matches_any("abc", ["ábc", "abc"]) is True
    assert matches_any("abc", ["ábc"]) is False
    garbage = WebhookRequest("https://x", {"Content-Type": "application/json"}, b"\xff\xfe not json")
    for verifier in VERIFIERS.values():
        assert verifier.account_hints(garbage) == ()
        event = verifier.parse(garbage)
        assert event.payload is None and event.raw_body is not None and event.event_id.startswith("sha256:")
    assert time.time() > NOW  # the fixed clock above is in the past: the tolerance checks use it, not time()
