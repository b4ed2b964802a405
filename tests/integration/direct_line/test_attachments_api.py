"""Files on an incident over HTTP, on SQLite and PostgreSQL: types sniffed from the bytes,
size limits as problems, downloads that never render, scoping, the feed event, the
operator's webhook, the audit log of every read, retention removing the files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from intake_service.access import retention
from intake_service.direct_line.attachments import store_of
from intake_service.feed import webhooks
from intake_service.models import Attachment, AuditEntry, Operator, OutboxEvent, WebhookDelivery
from intake_service.platform.file_store import FileStore
from tests import attachment_files as files
from tests.conftest import app_config
from tests.factories import submit_in_toulouse

PROBLEM = "application/problem+json"
Headers = dict[str, dict[str, str]]


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Any:
    # Small limits, so an over-size file is a few KiB.
    return app_config(
        database_url,
        tmp_path / "instance",
        attachment_max_image_bytes=20_000,
        attachment_max_video_bytes=40_000,
        attachment_max_pdf_bytes=10_000,
    )


def attachments_of(incident_id: str) -> str:
    return f"/api/v1/incidents/{incident_id}/attachments"


def upload(
    client: Any, headers: dict[str, str], incident_id: str, data: bytes, name: str, **form: str
) -> Any:
    return client.post(
        attachments_of(incident_id),
        data={"file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
        headers=headers,
    )


def stored_files(app: Any) -> list[Path]:
    root = store_of(app.extensions["intake.config"]).root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_png_named_pdf_is_stored_and_served_as_a_png_download_only(
    client: Any, headers: Headers, app: Any
) -> None:
    incident_id = submit_in_toulouse(client, headers)
    added = upload(client, headers["operator"], incident_id, files.png(), "rapport.pdf")
    assert added.status_code == 201, added.get_json()
    document = added.get_json()
    assert document["content_type"] == "image/png"
    assert document["filename"] == "rapport.png"
    assert document["side"] == "operator"
    assert added.headers["Location"].endswith(f"/attachments/{document['id']}")

    download = client.get(added.headers["Location"], headers=headers["command_centre"])
    assert download.status_code == 200
    assert download.mimetype == "image/png"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''rapport.png" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert download.headers["Cache-Control"] == "private, no-store"
    # What is served is what was stored, without the camera's metadata.
    assert b"Serial-XYZ-123" not in download.data
    assert download.data.startswith(b"\x89PNG")
    assert len(download.data) == document["size"]


@pytest.mark.parametrize(
    ("make", "content_type"),
    [
        (files.jpeg, "image/jpeg"),
        (files.heic, "image/heic"),
        (files.mp4, "video/mp4"),
        (files.pdf, "application/pdf"),
    ],
    ids=["jpeg", "heic", "mp4", "pdf"],
)
def test_each_kind_taken(client: Any, headers: Headers, make: Any, content_type: str) -> None:
    incident_id = submit_in_toulouse(client, headers)
    added = upload(client, headers["operator"], incident_id, make(), "fichier.bin")
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["content_type"] == content_type


@pytest.mark.parametrize(
    ("data", "name"),
    [(files.HTML, "photo.jpg"), (files.SVG, "plan.svg"), (files.ZIP, "video.mp4")],
    ids=["html", "svg-with-script", "zip"],
)
def test_what_is_not_taken_is_refused_naming_file(
    client: Any, headers: Headers, app: Any, data: bytes, name: str
) -> None:
    incident_id = submit_in_toulouse(client, headers)
    refused = upload(client, headers["operator"], incident_id, data, name)
    assert refused.status_code == 415
    assert refused.mimetype == PROBLEM
    assert refused.get_json()["errors"][0]["field"] == "file"
    assert stored_files(app) == []


def test_a_cut_file_is_refused(client: Any, headers: Headers, app: Any) -> None:
    incident_id = submit_in_toulouse(client, headers)
    for data in (files.jpeg()[:300], files.pdf()[:400], files.mp4()[:-50]):
        refused = upload(client, headers["operator"], incident_id, data, "cut")
        assert refused.status_code == 422, refused.get_json()
        assert refused.get_json()["errors"][0]["field"] == "file"
    assert stored_files(app) == []


def test_an_over_size_upload_gets_413_problem_json(
    client: Any, headers: Headers, app: Any, db: Any
) -> None:
    incident_id = submit_in_toulouse(client, headers)
    # Over the PDF limit (10 000 bytes), under the largest (40 000): the type's limit.
    big_pdf = files.pdf()[:-6] + b" " * 12_000 + b"\n%%EOF\n"
    refused = upload(client, headers["operator"], incident_id, big_pdf, "gros.pdf")
    assert refused.status_code == 413
    assert refused.mimetype == PROBLEM
    assert refused.get_json()["errors"][0]["field"] == "file"
    # Over every limit: refused from its Content-Length, before the body is read.
    huge = upload(client, headers["operator"], incident_id, b"%PDF-" + b"0" * 200_000, "x.pdf")
    assert huge.status_code == 413
    assert huge.mimetype == PROBLEM
    # The other endpoints keep their small cap.
    message = client.post(
        f"/api/v1/incidents/{incident_id}/messages",
        json={"text": "x" * 300_000},
        headers=headers["operator"],
    )
    assert message.status_code == 413
    assert message.mimetype == PROBLEM
    assert stored_files(app) == []
    with db.reading() as session:
        assert session.scalars(select(Attachment)).all() == []


def test_a_json_body_is_refused_with_415(client: Any, headers: Headers) -> None:
    incident_id = submit_in_toulouse(client, headers)
    response = client.post(
        attachments_of(incident_id), json={"file": "x"}, headers=headers["operator"]
    )
    assert response.status_code == 415
    assert response.mimetype == PROBLEM
    missing = client.post(
        attachments_of(incident_id),
        data={"message_id": ""},
        content_type="multipart/form-data",
        headers=headers["operator"],
    )
    assert missing.status_code == 422
    assert missing.get_json()["errors"][0]["field"] == "file"


def test_scoping_foreign_404_partner_403(client: Any, headers: Headers) -> None:
    incident_id = submit_in_toulouse(client, headers)
    added = upload(client, headers["operator"], incident_id, files.png(), "p.png")
    location = added.headers["Location"]
    for caller in ("other_operator", "ddsp_83"):
        assert client.get(location, headers=headers[caller]).status_code == 404
        assert client.get(attachments_of(incident_id), headers=headers[caller]).status_code == 404
        again = upload(client, headers[caller], incident_id, files.png(), "p.png")
        assert again.status_code == 404
    for caller in ("gpo_referent", "gpo_partner", "admin"):
        assert client.get(location, headers=headers[caller]).status_code == 403
        again = upload(client, headers[caller], incident_id, files.png(), "p.png")
        assert again.status_code == 403
    assert client.get(location).status_code == 401
    # Another incident's attachment id, and an unknown one: 404.
    other = submit_in_toulouse(client, headers, "TIS-2")
    assert (
        client.get(
            f"{attachments_of(other)}/{added.get_json()['id']}", headers=headers["operator"]
        ).status_code
        == 404
    )
    assert (
        client.get(f"{attachments_of(incident_id)}/nope", headers=headers["operator"]).status_code
        == 404
    )


def test_the_command_centre_attaches_to_its_message_feed_webhook_and_notes(
    client: Any, headers: Headers, db: Any, clock: Any
) -> None:
    with db.transaction() as session:
        tisseo = session.scalars(select(Operator).where(Operator.code == "tisseo")).one()
        webhooks.register(
            session,
            retention.RETENTION_JOB,
            tisseo.id,
            "http://127.0.0.1:9/h",
            now=clock.now,
            allow_private=True,
        )
    incident_id = submit_in_toulouse(client, headers)
    posted = client.post(
        f"/api/v1/incidents/{incident_id}/messages",
        json={"text": "Photo du suspect ci-jointe."},
        headers=headers["command_centre"],
    ).get_json()
    note = client.post(
        f"/api/v1/incidents/{incident_id}/messages",
        json={"text": "Interne", "kind": "note"},
        headers=headers["command_centre"],
    ).get_json()
    added = upload(
        client,
        headers["command_centre"],
        incident_id,
        files.jpeg(),
        "suspect.jpg",
        message_id=posted["id"],
    )
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["message_id"] == posted["id"]
    clock.advance(seconds=1)
    internal = upload(
        client,
        headers["command_centre"],
        incident_id,
        files.pdf(),
        "interne.pdf",
        message_id=note["id"],
    )
    assert internal.status_code == 201
    # Not a message of the caller's side.
    foreign = upload(
        client, headers["operator"], incident_id, files.png(), "p.png", message_id=posted["id"]
    )
    assert foreign.status_code == 422
    assert foreign.get_json()["errors"][0]["field"] == "message_id"

    seen = client.get(attachments_of(incident_id), headers=headers["operator"]).get_json()
    assert [a["filename"] for a in seen["attachments"]] == ["suspect.jpg"]
    cic = client.get(attachments_of(incident_id), headers=headers["command_centre"]).get_json()
    assert [a["filename"] for a in cic["attachments"]] == ["suspect.jpg", "interne.pdf"]
    hidden = client.get(
        f"{attachments_of(incident_id)}/{internal.get_json()['id']}", headers=headers["operator"]
    )
    assert hidden.status_code == 404

    with db.reading() as session:
        events = [
            e.envelope
            for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.position))
            if e.envelope["type"] == "incident.attachment_added"
        ]
        deliveries = [
            d.payload
            for d in session.scalars(select(WebhookDelivery))
            if d.payload.get("type") == "incident.attachment_added"
        ]
    assert [e["payload"]["attachment"]["filename"] for e in events] == [
        "suspect.jpg",
        "interne.pdf",
    ]
    assert events[0]["payload"]["attachment"]["content_type"] == "image/jpeg"
    # The operator's webhook: the CIC's file it may see, metadata only.
    assert [d["attachment"]["filename"] for d in deliveries] == ["suspect.jpg"]
    assert "sha256" in deliveries[0]["attachment"]


def test_every_read_is_audited(client: Any, headers: Headers, db: Any) -> None:
    incident_id = submit_in_toulouse(client, headers)
    added = upload(client, headers["operator"], incident_id, files.png(), "p.png")
    location = added.headers["Location"]
    client.get(attachments_of(incident_id), headers=headers["command_centre"])
    for _ in range(2):
        assert client.get(location, headers=headers["command_centre"]).status_code == 200
    assert client.get(location, headers=headers["operator"]).status_code == 200
    with db.reading() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.like("incident.attachment%"))
            .order_by(AuditEntry.id)
        ).all()
    assert [(e.action, e.role) for e in entries] == [
        ("incident.attachment.add", "operator"),
        ("incident.attachments.read", "command_centre"),
        ("incident.attachment.read", "command_centre"),
        ("incident.attachment.read", "command_centre"),
        ("incident.attachment.read", "operator"),
    ]
    assert entries[-1].detail["attachment"] == added.get_json()["id"]


def test_retention_deletes_the_files(
    client: Any, headers: Headers, db: Any, clock: Any, app: Any
) -> None:
    incident_id = submit_in_toulouse(client, headers)
    kept_id = submit_in_toulouse(client, headers, "TIS-2")
    added = upload(client, headers["operator"], incident_id, files.png(), "p.png")
    upload(client, headers["operator"], kept_id, files.pdf(), "k.pdf")
    assert len(stored_files(app)) == 2
    closed = client.post(
        f"/api/v1/incidents/{incident_id}/status",
        json={"status": "rejected", "cause": "Doublon"},
        headers=headers["command_centre"],
    )
    assert closed.status_code == 200, closed.get_json()
    clock.advance(days=200)
    store = store_of(app.extensions["intake.config"])
    with db.transaction() as session:
        report = retention.run_retention(session, clock.now, dt.timedelta(days=183), files=store)
    assert report.incidents == [incident_id]
    assert report.attachments == 1
    remaining = stored_files(app)
    assert len(remaining) == 1
    assert kept_id in str(remaining[0])
    with db.reading() as session:
        row = session.get(Attachment, added.get_json()["id"])
        assert row is not None
        assert row.deleted_at is not None
    assert client.get(added.headers["Location"], headers=headers["operator"]).status_code == 404
    listed = client.get(attachments_of(incident_id), headers=headers["operator"]).get_json()
    assert listed["attachments"] == []
    # Idempotent, and no new file on a purged incident.
    with db.transaction() as session:
        assert (
            retention.run_retention(
                session, clock.now, dt.timedelta(days=183), files=store
            ).incidents
            == []
        )
    again = upload(client, headers["operator"], incident_id, files.png(), "p.png")
    assert again.status_code == 409
    assert stored_files(app) == remaining
    assert json.dumps(report.incidents)


def test_nothing_is_lost_when_an_upload_is_cut_mid_way(
    client: Any, headers: Headers, app: Any, db: Any
) -> None:
    """A real server, and a client that announces more bytes than it sends, then closes."""
    incident_id = submit_in_toulouse(client, headers)
    earlier = upload(client, headers["operator"], incident_id, files.jpeg(), "avant.jpg")
    assert earlier.status_code == 201
    before = stored_files(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        boundary = "----coupure"
        head = (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="coupee.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        sent = head + files.png() * 4
        request = (
            f"POST {attachments_of(incident_id)} HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\n"
            f"Authorization: {headers['operator']['Authorization']}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(sent) + 50_000}\r\n\r\n"
        ).encode()
        with socket.create_connection(server.server_address[:2], timeout=10) as connection:
            connection.sendall(request + sent)
            connection.shutdown(socket.SHUT_WR)  # gone mid-way: the rest never comes
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        # The server saw the body end early, and said so to a client no longer sending.
        assert answer.startswith(b"HTTP/1.1 400"), answer[:100]
    finally:
        server.shutdown()
        thread.join(timeout=10)
    with db.reading() as session:
        rows = session.scalars(select(Attachment)).all()
    assert [row.filename for row in rows] == ["avant.jpg"]
    assert stored_files(app) == before
    kept = client.get(earlier.headers["Location"], headers=headers["command_centre"])
    assert kept.status_code == 200
    assert hashlib.sha256(kept.data).hexdigest() == earlier.get_json()["sha256"]


def test_a_stream_failing_while_staged_leaves_no_file(tmp_path: Path) -> None:
    """Cut while the store copies it (a proxy streaming the body): no incoming file stays."""

    class Cut(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise ConnectionResetError("client gone")
            return b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000

    store = FileStore(tmp_path / "store")
    with pytest.raises(ConnectionResetError):
        store.stage(Cut(), limit=10_000_000)  # type: ignore[arg-type]
    assert list((tmp_path / "store" / ".incoming").iterdir()) == []
