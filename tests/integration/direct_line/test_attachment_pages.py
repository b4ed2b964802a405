"""The incident's files on the pages, on SQLite and PostgreSQL: the operator's follow-up
and the console list them and take a new one (CSRF, multipart, larger than the other
forms' cap), and a download is audited and never rendered inline."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from intake_service.access.accounts import add_user
from intake_service.models import Attachment, AuditEntry
from intake_service.territory import zones
from tests import attachment_files as files
from tests.factories import a_sheet, create_tokens

PASSWORD = "mot-de-passe-de-test"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def incident_id(app: Any, db: Any, clock: Any) -> str:
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", "ddsp-31", "DIPN 31")])
        add_user(session, "pc@tisseo.test", PASSWORD, "operator", "tisseo", now=clock.now)
        add_user(session, "cic@ddsp31.test", PASSWORD, "command_centre", "ddsp-31", now=clock.now)
    sheet = a_sheet("PAGE-1")
    sheet["location"]["insee_code"] = "31555"
    response = app.test_client().post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert response.status_code == 201
    return str(response.get_json()["id"])


def signed_in(app: Any, email: str) -> Any:
    """A client signed in through the real form, CSRF token included."""
    client = app.test_client()
    token = CSRF.search(client.get("/connexion").get_data(as_text=True))
    assert token is not None
    response = client.post(
        "/connexion", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    ("email", "page"),
    [("pc@tisseo.test", "/operateur/incidents/{}"), ("cic@ddsp31.test", "/console/incidents/{}")],
    ids=["follow-up", "console"],
)
def test_a_file_joined_on_the_page_is_listed_and_downloaded(
    app: Any, db: Any, incident_id: str, email: str, page: str
) -> None:
    client = signed_in(app, email)
    url = page.format(incident_id)
    shown = client.get(url).get_data(as_text=True)
    assert "Pièces jointes" in shown
    assert "Aucune pièce jointe." in shown
    form = re.search(r'<form method="post" action="([^"]+pieces-jointes)"', shown)
    assert form is not None
    token = CSRF.search(shown[shown.index('id="pieces-jointes"') :])
    assert token is not None

    # Without the CSRF token: refused, nothing kept.
    forged = client.post(
        form.group(1), data={"file": (io.BytesIO(files.png()), "p.png")}, follow_redirects=False
    )
    assert forged.status_code == 400
    # A PDF larger than the other forms' cap (256 KiB), under its own limit.
    big_pdf = files.pdf()[:-6] + b" " * 400_000 + b"\n%%EOF\n"
    joined = client.post(
        form.group(1),
        data={"file": (io.BytesIO(big_pdf), "rapport.pdf"), "csrf_token": token.group(1)},
    )
    assert joined.status_code == 303
    assert joined.headers["Location"].endswith(f"{url}#pieces-jointes")
    after = client.get(url).get_data(as_text=True)
    assert "Fichier joint : rapport.pdf." in after
    link = re.search(r'<a href="([^"]+pieces-jointes/[^"]+)" download>rapport.pdf</a>', after)
    assert link is not None

    download = client.get(link.group(1))
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert len(download.data) == len(big_pdf)

    # A refused file is said in French, and kept nowhere.
    refused = client.post(
        form.group(1),
        data={"file": (io.BytesIO(files.SVG), "plan.svg"), "csrf_token": token.group(1)},
    )
    assert refused.status_code == 303
    assert "Fichier refusé : Seuls les photos" in client.get(url).get_data(as_text=True)
    with db.reading() as session:
        assert [a.filename for a in session.scalars(select(Attachment))] == ["rapport.pdf"]
        reads = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "incident.attachment.read")
        ).all()
    assert len(reads) == 1


def test_the_other_side_downloads_it_and_a_foreign_operator_gets_404(
    app: Any, db: Any, incident_id: str, clock: Any
) -> None:
    operator = signed_in(app, "pc@tisseo.test")
    shown = operator.get(f"/operateur/incidents/{incident_id}").get_data(as_text=True)
    token = CSRF.search(shown[shown.index('id="pieces-jointes"') :])
    assert token is not None
    operator.post(
        f"/operateur/incidents/{incident_id}/pieces-jointes",
        data={"file": (io.BytesIO(files.jpeg()), "quai.jpg"), "csrf_token": token.group(1)},
    )
    with db.reading() as session:
        attachment = session.scalars(select(Attachment)).one()
    console = signed_in(app, "cic@ddsp31.test")
    page = console.get(f"/console/incidents/{incident_id}").get_data(as_text=True)
    assert "quai.jpg" in page
    assert "Exploitant" in page
    got = console.get(f"/console/incidents/{incident_id}/pieces-jointes/{attachment.id}")
    assert got.status_code == 200
    assert got.mimetype == "image/jpeg"
    with db.transaction() as session:
        add_user(session, "pc@mistral.test", PASSWORD, "operator", "mistral", now=clock.now)
    foreign = signed_in(app, "pc@mistral.test")
    assert (
        foreign.get(
            f"/operateur/incidents/{incident_id}/pieces-jointes/{attachment.id}"
        ).status_code
        == 404
    )
