"""Operators' webhooks: registration (with the SSRF check), signed deliveries, retries, lease.

A real HTTP server on 127.0.0.1 plays the operator's endpoint, so the app here
allows private addresses (``webhook_allow_private=True``); the SSRF tests build
a second app on the same database that does not.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from intake_service import create_app
from intake_service.feed import outbox, webhooks
from intake_service.models import Operator, WebhookDelivery
from intake_service.platform.config import Config
from intake_service.territory import zones
from tests.factories import a_sheet, create_tokens
from workers import periodic as webhooks_worker
from workers.periodic import WebhookSender

PROBLEM = "application/problem+json"
HOOK = "/api/v1/webhook"
DELIVERIES = "/api/v1/webhook/deliveries"
Headers = dict[str, dict[str, str]]


class HookServer:
    """The operator's endpoint: answers ``script`` in turn (then 204), ``"hang"`` to stall."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int | str] = []
        self.hang_seconds = 3.0
        self.request_arrived = threading.Event()
        self.release = threading.Event()
        # Requests being answered now, and the most there ever were at once.
        self.in_flight = 0
        self.most_in_flight = 0
        self.counting = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with server.counting:
                    server.requests.append((dict(self.headers), body))
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                    answer = server.script.pop(0) if server.script else 204
                server.request_arrived.set()
                try:
                    if answer == "hang":
                        server.release.wait(server.hang_seconds)
                        answer = 204
                    self.send_response(int(answer))
                    self.end_headers()
                except OSError:  # the client gave up waiting
                    pass
                finally:
                    with server.counting:
                        server.in_flight -= 1

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def stop(self) -> None:
        if self.running:
            self.release.set()
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


@pytest.fixture
def hook_server() -> Iterator[HookServer]:
    server = HookServer()
    yield server
    server.stop()


@pytest.fixture
def app(config: Config, clock: Any) -> Iterator[Any]:
    """The application, allowing webhooks on 127.0.0.1 (the test server)."""
    application = create_app(config.with_overrides({"webhook_allow_private": True}), clock=clock)
    yield application
    application.extensions["intake.db"].dispose()


@pytest.fixture
def strict_client(config: Config, clock: Any) -> Iterator[Any]:
    """A client of an application on the same database that refuses private addresses."""
    application = create_app(config, clock=clock)
    assert application.extensions["intake.config"].webhook_allow_private is False
    yield application.test_client()
    application.extensions["intake.db"].dispose()


@pytest.fixture
def headers(db: Any, clock: Any) -> Headers:
    """Tokens of every role; sheets in Toulouse go to the ddsp-31 command centre."""
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "ddsp-31", "DIPN 31")])
    return headers


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def register(client: Any, headers: Headers, url: str) -> str:
    response = client.put(HOOK, json={"url": url}, headers=headers["operator"])
    assert response.status_code == 200, response.get_json()
    secret: str = response.get_json()["secret"]
    return secret


def submit(client: Any, headers: dict[str, str], reference: str) -> str:
    response = client.post("/api/v1/incidents", json=a_sheet(reference), headers=headers)
    assert response.status_code == 201, response.get_json()
    incident_id: str = response.get_json()["id"]
    return incident_id


def acknowledge(client: Any, headers: Headers, incident_id: str) -> Any:
    return client.post(
        f"/api/v1/incidents/{incident_id}/status",
        json={"status": "acknowledged"},
        headers=headers["command_centre"],
    )


def rows(db: Any) -> list[WebhookDelivery]:
    with db.transaction() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def only_row(db: Any) -> WebhookDelivery:
    [row] = rows(db)
    return row


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# --- registration ---


def test_register_change_read_and_delete(client: Any, headers: Headers) -> None:
    op = headers["operator"]
    first = client.put(HOOK, json={"url": "https://hooks.example.org/a"}, headers=op)
    assert first.status_code == 200
    secret = first.get_json()["secret"]
    assert len(secret) == 64
    int(secret, 16)
    assert first.get_json()["url"] == "https://hooks.example.org/a"

    second = client.put(HOOK, json={"url": "https://hooks.example.org/b"}, headers=op)
    assert second.status_code == 200
    assert second.get_json()["url"] == "https://hooks.example.org/b"
    assert "secret" not in second.get_json()

    read = client.get(HOOK, headers=op)
    assert read.status_code == 200
    assert read.get_json() == {
        "url": "https://hooks.example.org/b",
        "created_at": "2026-03-14T17:30:00+00:00",
    }

    assert client.delete(HOOK, headers=op).status_code == 204
    gone = client.get(HOOK, headers=op)
    assert gone.status_code == 404
    assert gone.mimetype == PROBLEM
    assert client.delete(HOOK, headers=op).status_code == 404


def test_reregistering_after_delete_makes_a_new_secret(client: Any, headers: Headers) -> None:
    first = register(client, headers, "https://hooks.example.org/a")
    assert client.delete(HOOK, headers=headers["operator"]).status_code == 204
    assert register(client, headers, "https://hooks.example.org/a") != first


def test_webhooks_belong_to_one_operator(client: Any, headers: Headers) -> None:
    register(client, headers, "https://hooks.example.org/tisseo")
    assert client.get(HOOK, headers=headers["other_operator"]).status_code == 404


@pytest.mark.parametrize("role", ["command_centre", "admin", "gpo_referent"])
def test_only_operators_manage_webhooks(client: Any, headers: Headers, role: str) -> None:
    response = client.put(HOOK, json={"url": "https://hooks.example.org/a"}, headers=headers[role])
    assert response.status_code == 403
    assert client.get(DELIVERIES, headers=headers[role]).status_code == 403


def test_no_token_answers_401(client: Any) -> None:
    assert client.get(HOOK).status_code == 401
    assert client.put(HOOK, json={"url": "https://hooks.example.org/a"}).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://hooks.example.org/a"},
        {"url": "file:///etc/passwd"},
        {"url": "hooks.example.org/a"},
        {"url": ""},
        {},
    ],
)
def test_url_that_is_not_http_answers_422(client: Any, headers: Headers, body: Any) -> None:
    response = client.put(HOOK, json=body, headers=headers["operator"])
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert [error["field"] for error in response.get_json()["errors"]] == ["url"]
    assert client.get(HOOK, headers=headers["operator"]).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://localhost/hook",
    ],
)
def test_private_or_local_url_is_refused(strict_client: Any, headers: Headers, url: str) -> None:
    response = strict_client.put(HOOK, json={"url": url}, headers=headers["operator"])
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    [error] = response.get_json()["errors"]
    assert error["field"] == "url"
    assert "private or local" in error["message"]
    assert strict_client.get(HOOK, headers=headers["operator"]).status_code == 404


def test_changing_the_url_to_a_private_one_is_refused(strict_client: Any, headers: Headers) -> None:
    op = headers["operator"]
    assert (
        strict_client.put(HOOK, json={"url": "http://93.184.216.34/h"}, headers=op).status_code
        == 200
    )
    refused = strict_client.put(HOOK, json={"url": "http://10.1.2.3/h"}, headers=op)
    assert refused.status_code == 422
    assert strict_client.get(HOOK, headers=op).get_json()["url"] == "http://93.184.216.34/h"


@pytest.mark.parametrize(
    ("url", "allow_private", "refusal"),
    [
        ("http://93.184.216.34/hook", False, None),
        ("https://93.184.216.34:8443/hook", False, None),
        ("http://127.0.0.1:8080/hook", True, None),
        ("http://127.0.0.1/hook", False, "private or local"),
        ("http://127.1/hook", False, "private or local"),
        ("http://2130706433/hook", False, "private or local"),
        ("http://0.0.0.0/hook", False, "private or local"),
        ("http://10.0.0.1/hook", False, "private or local"),
        ("http://172.16.5.4/hook", False, "private or local"),
        ("http://192.168.1.1/hook", False, "private or local"),
        ("http://169.254.169.254/latest", False, "private or local"),
        ("http://[::1]/hook", False, "private or local"),
        ("http://[::ffff:127.0.0.1]/hook", False, "private or local"),
        ("http://[fd00::1]/hook", False, "private or local"),
        ("http://[fe80::1]/hook", False, "private or local"),
        ("http://224.0.0.1/hook", False, "private or local"),
        ("http://localhost:5000/hook", False, "private or local"),
        ("http://no-such-host.invalid/hook", False, "does not resolve"),
        ("ftp://93.184.216.34/hook", False, "absolute http(s) URL"),
        ("ftp://127.0.0.1/hook", True, "absolute http(s) URL"),
        ("http:///hook", False, "absolute http(s) URL"),
        ("/hook", False, "absolute http(s) URL"),
        # Shared address space (100.64.0.0/10): not "private" to Python, not global either.
        ("http://100.100.100.200/latest/meta-data/", False, "private or local"),
        # IPv6 forms of private IPv4 addresses, which a gateway turns back into them.
        ("http://[64:ff9b::a9fe:a9fe]/latest", False, "private or local"),  # NAT64
        ("http://[64:ff9b:1::a00:1]/hook", False, "private or local"),  # local-use NAT64
        ("http://[2002:a9fe:a9fe::]/latest", False, "private or local"),  # 6to4
        ("http://[2002:7f00:1::1]/hook", False, "private or local"),
        ("http://[64:ff9b::5db8:d822]/hook", False, None),  # NAT64 of a public address
    ],
)
def test_check_target(url: str, allow_private: bool, refusal: str | None) -> None:
    if refusal is None:
        webhooks.check_target(url, allow_private=allow_private)
    else:
        with pytest.raises(
            webhooks.WebhookRefused, match=refusal.replace("(", r"\(").replace(")", r"\)")
        ):
            webhooks.check_target(url, allow_private=allow_private)


# --- delivery ---


def test_each_status_change_is_delivered_signed(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    secret = register(client, headers, hook_server.url)
    incident_id = submit(client, headers["operator"], "W-1")
    clock.advance(seconds=1)
    with db.transaction() as session:
        outbox.mark_queued(session, [incident_id], clock.now)
    clock.advance(seconds=1)
    assert acknowledge(client, headers, incident_id).status_code == 200

    pending = client.get(DELIVERIES, headers=headers["operator"]).get_json()["items"]
    assert [(d["state"], d["attempts"]) for d in pending] == [("pending", 0)] * 3
    assert [(d["payload"]["status"], d["payload"]["author_role"]) for d in pending] == [
        ("acknowledged", "command_centre"),
        ("queued", "system"),
        ("received", "operator"),
    ]

    clock.advance(seconds=1)
    sender = WebhookSender(db, allow_private=True, clock=clock)
    assert sender.send_due() == 3
    assert len(hook_server.requests) == 3
    statuses = []
    for request_headers, body in hook_server.requests:
        timestamp = request_headers["X-Intake-Timestamp"]
        assert timestamp == str(int(clock.now.timestamp()))
        assert request_headers["Content-Type"] == "application/json"
        assert request_headers["X-Intake-Signature"] == expected_signature(secret, timestamp, body)
        assert request_headers["X-Intake-Signature"] != expected_signature(
            "x" * 64, timestamp, body
        )
        payload = json.loads(body)
        assert payload["type"] == "incident.status_changed"
        assert payload["incident_id"] == incident_id
        assert payload["operator_reference"] == "W-1"
        statuses.append(payload["status"])
    # Due first, sent first: the operator sees the changes in order.
    assert statuses == ["received", "queued", "acknowledged"]

    delivered = client.get(DELIVERIES, headers=headers["operator"]).get_json()["items"]
    assert {(d["state"], d["attempts"], d["last_status_code"]) for d in delivered} == {
        ("delivered", 1, 204)
    }
    assert {d["delivered_at"] for d in delivered} == {"2026-03-14T17:30:03+00:00"}
    assert sender.send_due() == 0
    assert len(hook_server.requests) == 3


def test_signature_does_not_verify_a_tampered_body(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    secret = register(client, headers, hook_server.url)
    submit(client, headers["operator"], "W-2")
    WebhookSender(db, allow_private=True, clock=clock).send_due()
    [(request_headers, body)] = hook_server.requests
    timestamp = request_headers["X-Intake-Timestamp"]
    tampered = body.replace(b"received", b"closed")
    assert tampered != body
    assert request_headers["X-Intake-Signature"] != expected_signature(secret, timestamp, tampered)
    later = str(int(timestamp) + 1)
    assert request_headers["X-Intake-Signature"] != expected_signature(secret, later, body)


def test_deliveries_verify_with_a_standard_webhooks_library(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    """The receiver's side as the ``standardwebhooks`` package does it: the signature
    verifies with the registration's ``standard_webhooks_secret``; a tampered body, a
    replayed old message or another secret does not; ``webhook-id`` stays at each retry."""
    from standardwebhooks import Webhook as Receiver
    from standardwebhooks.webhooks import WebhookVerificationError

    registered = client.put(
        "/api/v1/webhook", json={"url": hook_server.url}, headers=headers["operator"]
    ).get_json()
    assert registered["standard_webhooks_secret"].startswith("whsec_")
    submit(client, headers["operator"], "W-STD")
    clock.now = dt.datetime.now(dt.UTC)  # the receiver checks the timestamp on its own clock
    WebhookSender(db, allow_private=True, clock=clock).send_due()
    [(request_headers, body)] = hook_server.requests
    receiver = Receiver(registered["standard_webhooks_secret"])
    payload = receiver.verify(body, dict(request_headers))
    assert payload["operator_reference"] == "W-STD"
    assert request_headers["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):
        receiver.verify(body.replace(b"received", b"closed"), dict(request_headers))
    with pytest.raises(WebhookVerificationError):
        Receiver("whsec_" + base64.b64encode(b"another secret").decode()).verify(
            body, dict(request_headers)
        )
    # A message replayed ten minutes later is refused (Standard Webhooks: 5 min tolerance).
    old = str(int(request_headers["webhook-timestamp"]) - 600)
    replayed = {
        **dict(request_headers),
        "webhook-timestamp": old,
        "webhook-signature": webhooks.standard_signature(
            registered["secret"], request_headers["webhook-id"], old, body
        ),
    }
    with pytest.raises(WebhookVerificationError):
        receiver.verify(body, replayed)
    # The old header still comes, for one release.
    assert request_headers["X-Intake-Signature"] == expected_signature(
        registered["secret"], request_headers["webhook-timestamp"], body
    )


def test_the_post_goes_to_the_address_checked_never_resolved_again(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    """DNS rebinding: a name checked public, then answering a private address, would
    reach the private one if the POST resolved it again. One resolution per send."""
    port = int(hook_server.url.split(":")[2].split("/")[0])
    calls: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        calls.append(host)
        # First answer checked (allowed here); a second would name a stranger.
        return ["127.0.0.1"] if len(calls) == 1 else ["203.0.113.66"]

    register(client, headers, f"http://hooks.operator.test:{port}/hook")
    submit(client, headers["operator"], "W-PIN")
    sender = WebhookSender(db, allow_private=True, clock=clock, resolver=resolver)
    assert sender.send_due() == 1
    assert calls == ["hooks.operator.test"]
    [(request_headers, _body)] = hook_server.requests
    assert request_headers["Host"] == f"hooks.operator.test:{port}"
    assert only_row(db).state == "delivered"


def test_a_trickling_receiver_is_cut_at_the_deadline(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    """One byte every half second would keep a per-read timeout alive forever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    done = threading.Event()

    def trickle() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                if done.is_set():
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.5)

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    register(client, headers, f"http://127.0.0.1:{port}/hook")
    submit(client, headers["operator"], "W-TRICKLE")
    sender = WebhookSender(db, allow_private=True, clock=clock, timeout_seconds=2.0)
    started = time.monotonic()
    try:
        assert sender.send_due() == 1
        elapsed = time.monotonic() - started
    finally:
        done.set()
        listener.close()
    assert elapsed < 6.0  # the whole answer would take 19 s
    row = only_row(db)
    assert (row.state, row.attempts, row.last_status_code) == ("pending", 1, None)
    assert row.last_error == "Timed out: no complete answer within 2 s."


def test_server_error_is_retried_after_the_backoff(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    register(client, headers, hook_server.url)
    submit(client, headers["operator"], "W-3")
    hook_server.script = [500, 204]
    sender = WebhookSender(db, allow_private=True, clock=clock)

    assert sender.send_due() == 1
    row = only_row(db)
    assert (row.state, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.last_error == "HTTP 500"
    assert row.next_attempt_at == clock.now + dt.timedelta(seconds=10)

    clock.advance(seconds=5)
    assert sender.send_due() == 0
    assert len(hook_server.requests) == 1

    clock.advance(seconds=5)
    assert sender.send_due() == 1
    assert len(hook_server.requests) == 2
    row = only_row(db)
    assert (row.state, row.attempts, row.last_status_code) == ("delivered", 2, 204)
    assert row.last_error is None
    assert row.delivered_at == clock.now
    # Both attempts carried the same event.
    assert hook_server.requests[0][1] == hook_server.requests[1][1]


def test_delivery_fails_after_the_last_attempt(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    register(client, headers, hook_server.url)
    incident_id = submit(client, headers["operator"], "W-4")
    hook_server.script = [500] * webhooks.MAX_ATTEMPTS
    sender = WebhookSender(db, allow_private=True, clock=clock)

    for attempt, backoff in enumerate(webhooks.BACKOFF, start=1):
        assert sender.send_due() == 1
        row = only_row(db)
        assert (row.state, row.attempts) == ("pending", attempt)
        assert row.next_attempt_at == clock.now + backoff
        clock.advance(seconds=backoff.total_seconds() - 1)
        assert sender.send_due() == 0
        clock.advance(seconds=1)
    assert sender.send_due() == 1
    assert len(hook_server.requests) == webhooks.MAX_ATTEMPTS == 8
    row = only_row(db)
    assert (row.state, row.attempts, row.last_status_code) == ("failed", 8, 500)
    clock.advance(days=2)
    assert sender.send_due() == 0

    failed = client.get(DELIVERIES + "?state=failed", headers=headers["operator"])
    assert failed.status_code == 200
    [item] = failed.get_json()["items"]
    assert item["incident_id"] == incident_id
    assert (item["state"], item["attempts"]) == ("failed", 8)
    assert item["last_error"] == "HTTP 500"
    assert item["delivered_at"] is None
    pending = client.get(DELIVERIES + "?state=pending", headers=headers["operator"])
    assert pending.get_json()["items"] == []


def test_deliveries_filter_refuses_an_unknown_state(client: Any, headers: Headers) -> None:
    response = client.get(DELIVERIES + "?state=lost", headers=headers["operator"])
    assert response.status_code == 422
    assert [error["field"] for error in response.get_json()["errors"]] == ["state"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_connection_refused_is_recorded(client: Any, headers: Headers, db: Any, clock: Any) -> None:
    register(client, headers, f"http://127.0.0.1:{free_port()}/hook")
    submit(client, headers["operator"], "W-5")
    assert WebhookSender(db, allow_private=True, clock=clock).send_due() == 1
    row = only_row(db)
    assert (row.state, row.attempts, row.last_status_code) == ("pending", 1, None)
    # In the operator's words, not the socket's (no port-scanning oracle).
    assert row.last_error == "The endpoint refused the connection or could not be reached."
    assert row.next_attempt_at == clock.now + webhooks.BACKOFF[0]


def test_sender_checks_the_address_again_before_each_post(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    """Registered while allowed (or resolving elsewhere): a private address is refused at send."""
    register(client, headers, hook_server.url)
    submit(client, headers["operator"], "W-SSRF")
    assert WebhookSender(db, allow_private=False, clock=clock).send_due() == 1
    row = only_row(db)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error is not None
    assert "private or local" in row.last_error
    assert hook_server.requests == []


def test_stopped_server_then_back_up(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    register(client, headers, hook_server.url)
    submit(client, headers["operator"], "W-6")
    hook_server.stop()
    sender = WebhookSender(db, allow_private=True, clock=clock)
    assert sender.send_due() == 1
    assert "refused" in (only_row(db).last_error or "").lower()

    # The operator fixes its endpoint and points the webhook at it.
    again = HookServer()
    try:
        assert (
            client.put(HOOK, json={"url": again.url}, headers=headers["operator"]).status_code
            == 200
        )
        clock.advance(seconds=10)
        assert sender.send_due() == 1
        assert len(again.requests) == 1
        assert only_row(db).state == "delivered"
    finally:
        again.stop()


def test_operator_without_webhook_gets_no_deliveries(
    client: Any, headers: Headers, db: Any, hook_server: HookServer
) -> None:
    register(client, headers, hook_server.url)
    mistral_incident = submit(client, headers["other_operator"], "M-1")
    with db.transaction() as session:
        mistral = session.scalar(select(Operator.id).where(Operator.code == "mistral"))
        tisseo = session.scalar(select(Operator.id).where(Operator.code == "tisseo"))
    assert all(row.operator_id != mistral for row in rows(db))
    assert rows(db) == []
    listing = client.get(DELIVERIES, headers=headers["other_operator"])
    assert listing.status_code == 200
    assert listing.get_json()["items"] == []

    submit(client, headers["operator"], "T-1")
    assert [(row.operator_id, row.incident_id != mistral_incident) for row in rows(db)] == [
        (tisseo, True)
    ]


def test_a_relay_batch_queues_one_delivery_per_incident_of_an_operator_with_a_webhook(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    register(client, headers, hook_server.url)
    tisseo_ids = [submit(client, headers["operator"], f"T-{n}") for n in range(3)]
    mistral_id = submit(client, headers["other_operator"], "M-1")
    clock.advance(seconds=1)
    with db.transaction() as session:
        outbox.mark_queued(session, [*tisseo_ids, mistral_id], clock.now)
    queued = [row for row in rows(db) if row.payload["status"] == "queued"]
    assert sorted(row.incident_id for row in queued) == sorted(tisseo_ids)
    assert len({row.event_id for row in queued}) == 3  # one event each
    assert {row.payload["at"] for row in queued} == {clock.now.isoformat()}


def test_no_deliveries_once_the_webhook_is_removed(
    client: Any, headers: Headers, db: Any, hook_server: HookServer
) -> None:
    register(client, headers, hook_server.url)
    submit(client, headers["operator"], "W-7")
    assert len(rows(db)) == 1
    assert client.delete(HOOK, headers=headers["operator"]).status_code == 204
    submit(client, headers["operator"], "W-8")
    assert len(rows(db)) == 1


def test_a_claimed_delivery_is_leased(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    secret = register(client, headers, hook_server.url)
    incident_id = submit(client, headers["operator"], "W-9")
    with db.transaction() as session:
        first = webhooks.claim_due(session, clock.now, 10)
    with db.transaction() as session:
        second = webhooks.claim_due(session, clock.now, 10)
    assert [(d.url, d.secret) for d in first] == [(hook_server.url, secret)]
    assert json.loads(first[0].body)["incident_id"] == incident_id
    assert second == []
    assert only_row(db).next_attempt_at == clock.now + webhooks.LEASE

    # A worker that died holding the lease: the delivery comes back when it expires.
    clock.advance(seconds=webhooks.LEASE.total_seconds() - 1)
    with db.transaction() as session:
        assert webhooks.claim_due(session, clock.now, 10) == []
    clock.advance(seconds=1)
    with db.transaction() as session:
        assert [d.id for d in webhooks.claim_due(session, clock.now, 10)] == [first[0].id]


def test_concurrent_claims_skip_each_others_deliveries(
    client: Any, headers: Headers, db: Any, clock: Any, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): claims cannot overlap")
    register(client, headers, "http://127.0.0.1:9/hook")
    for number in range(3):
        submit(client, headers["operator"], f"W-L{number}")
    with db.transaction() as first_session:
        first = webhooks.claim_due(first_session, clock.now, 2)
        # Before the first worker commits, a second one claims at the same instant.
        with db.transaction() as second_session:
            second = webhooks.claim_due(second_session, clock.now, 10)
    first_ids = {d.id for d in first}
    second_ids = {d.id for d in second}
    assert len(first_ids) == 2
    assert len(second_ids) == 1
    assert first_ids.isdisjoint(second_ids)


# --- the feed is never blocked ---


def test_hanging_endpoint_only_delays_its_delivery(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    register(client, headers, hook_server.url)
    incident_id = submit(client, headers["operator"], "W-10")
    hook_server.script = ["hang"]
    hook_server.hang_seconds = 8.0
    # Generous against a loaded CI machine: what matters is that nothing waits for it.
    sender = WebhookSender(db, allow_private=True, clock=clock, timeout_seconds=3.0)
    attempted: list[int] = []
    worker = threading.Thread(target=lambda: attempted.append(sender.send_due()))
    worker.start()
    try:
        assert hook_server.request_arrived.wait(5)
        # While the sender waits on the endpoint, the command centre and the operator go on.
        started = time.monotonic()
        assert acknowledge(client, headers, incident_id).status_code == 200
        elapsed = time.monotonic() - started
        assert worker.is_alive(), "the status change waited for the webhook sender"
        assert elapsed < 3.0
        other = submit(client, headers["operator"], "W-11")
    finally:
        worker.join(timeout=10)
    assert attempted == [1]

    by_status = {row.payload["status"]: row for row in rows(db) if row.incident_id == incident_id}
    timed_out = by_status["received"]
    assert (timed_out.state, timed_out.attempts, timed_out.last_status_code) == (
        "pending",
        1,
        None,
    )
    assert "timed out" in (timed_out.last_error or "").lower()
    # The changes made meanwhile are waiting, due, untouched by the stalled attempt.
    assert by_status["acknowledged"].attempts == 0
    assert {row.incident_id for row in rows(db) if row.attempts == 0} == {incident_id, other}

    hook_server.release.set()
    assert sender.send_due() == 2
    clock.advance(seconds=10)
    assert sender.send_due() == 1
    assert {row.state for row in rows(db)} == {"delivered"}


def test_a_slow_operator_never_holds_up_another_operators_webhooks(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    """A slow endpoint gets at most PER_OPERATOR_SENDS sends at once, and another
    operator's deliveries, queued behind its backlog, go out at once beside them."""
    register(client, headers, hook_server.url)
    hook_server.script = ["hang"] * 12
    hook_server.hang_seconds = 4.0
    for number in range(12):
        submit(client, headers["operator"], f"W-SLOW-{number}")
    fast = HookServer()
    try:
        response = client.put(HOOK, json={"url": fast.url}, headers=headers["other_operator"])
        assert response.status_code == 200
        for number in range(3):
            submit(client, headers["other_operator"], f"W-FAST-{number}")
        sender = WebhookSender(db, allow_private=True, clock=clock, timeout_seconds=3.0)
        stop = threading.Event()
        worker = threading.Thread(target=sender.run, args=(stop,))
        started = time.monotonic()
        worker.start()
        try:
            deadline = started + 10
            while len(fast.requests) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            waited = time.monotonic() - started
            # Behind twelve deliveries that each hang 3 s, the other operator's three
            # are sent at once, not after a round of the slow ones.
            assert len(fast.requests) == 3
            assert waited < 2.5, f"the fast operator waited {waited:.1f} s"
        finally:
            stop.set()
            worker.join(timeout=30)
        assert not worker.is_alive()
        assert hook_server.most_in_flight <= webhooks_worker.PER_OPERATOR_SENDS
        assert hook_server.most_in_flight >= 1
    finally:
        fast.stop()


def test_a_late_failure_never_undoes_a_delivery(
    client: Any, headers: Headers, db: Any, clock: Any, hook_server: HookServer
) -> None:
    register(client, headers, hook_server.url)
    submit(client, headers["operator"], "W-LATE")
    WebhookSender(db, allow_private=True, clock=clock).send_due()
    delivered = only_row(db)
    assert delivered.state == "delivered"
    with db.transaction() as session:  # a second sender's answer, arriving after the first
        webhooks.record_attempt(
            session, delivered.id, now=clock.now, status_code=None, error="late"
        )
    after = only_row(db)
    assert (after.state, after.attempts, after.last_error) == ("delivered", 1, None)
