"""End to end: an assaulted driver's sheet becomes a priority complaint appointment.

A sheet posted over HTTP to a live server, with the relay, the appointments worker
and the mailer running for real on the embedded default (SQLite and kombu's SQLite
transport), leads within seconds to an appointment at the station covering the
incident's commune within the delay, an email with its .ics at a real SMTP server
(aiosmtpd), and the pre-filled summary the station officer opens in Chromium (and
downloads as PDF).
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest
import requests
from sqlalchemy import select

from intake_service import create_app
from intake_service.access.accounts import add_user
from intake_service.access.tokens import create_token
from intake_service.appointments import policy, slots, stations
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    Incident,
    Operator,
)
from intake_service.platform.config import Config
from tests.e2e.conftest import PASSWORD, LiveServer, add_reference_data, screenshot
from tests.smtp import SmtpServer, calendar_part, running
from workers.runner import build_workers, run_workers

OFFICER = "officier@csp-toulouse.test"
OTHER_OFFICER = "officier@csp-toulon.test"
DEMO_STATIONS = Path(__file__).resolve().parents[2] / "intake_service" / "demo" / "stations.csv"
WAIT_SECONDS = 20.0


class Flow:
    def __init__(self, server: LiveServer, smtp: SmtpServer, token: str) -> None:
        self.server = server
        self.smtp = smtp
        self.headers = {"Authorization": f"Bearer {token}"}
        self.db = server.app.extensions["intake.db"]


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with running() as server:
        yield server


@pytest.fixture(scope="module")
def live_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[LiveServer]:
    """The app and its workers (relay, appointments, mailer) on the embedded default."""
    folder = tmp_path_factory.mktemp("appointments-e2e")
    shutil.copy(sqlite_template, folder / "intake.sqlite")
    config = Config(
        instance_path=folder,
        database_url=f"sqlite:///{folder / 'intake.sqlite'}",
        broker_url=f"sqla+sqlite:///{folder / 'broker.sqlite'}",
        redis_url=None,
        secret_key="appointment-e2e",
        embedded=True,
    ).with_overrides({"smtp_url": smtp.url, "mail_from": "rdv-plainte@gpo.test"})
    app = create_app(config)
    db = app.extensions["intake.db"]
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        add_reference_data(session, now)
        tisseo = session.scalars(select(Operator).where(Operator.code == "tisseo")).one()
        tisseo.referent_email = "referent@tisseo.test"
        stations.import_stations(session, stations.read_stations(DEMO_STATIONS), now)
        # Slots every day of the coming fortnight, half reserved for priority appointments.
        today = now.astimezone(dt.UTC).date()
        for code in ("csp-toulouse", "csp-toulon"):
            slots.generate_slots(
                session,
                code,
                today,
                today + dt.timedelta(days=14),
                {day: [("08:00", "20:00")] for day in range(7)},
                60,
                0.5,
                now,
                policy=policy.policy_of(config),
            )
        add_user(session, OFFICER, PASSWORD, "station_officer", "csp-toulouse", now=now)
        add_user(session, OTHER_OFFICER, PASSWORD, "station_officer", "csp-toulon", now=now)
    stop = threading.Event()
    workers = build_workers(config, db, ["relay", "appointments", "mailer"])
    thread = threading.Thread(target=run_workers, args=(workers, stop), daemon=True)
    thread.start()
    server = LiveServer(app)
    yield server
    server.stop()
    stop.set()
    thread.join(timeout=40)
    db.dispose()


@pytest.fixture(scope="module")
def flow(live_server: LiveServer, smtp: SmtpServer) -> Flow:
    now = dt.datetime.now(dt.UTC)
    with live_server.app.extensions["intake.db"].transaction() as session:
        token = create_token(session, "operator", "tisseo", "e2e appointments", now=now)
    return Flow(live_server, smtp, token.secret)


def assaulted_driver(reference: str) -> dict[str, Any]:
    """An on-duty driver hit on a Toulouse bus, who wants to file a complaint."""
    now = dt.datetime.now(dt.UTC)
    return {
        "operator_reference": reference,
        "channel": "silent_alarm",
        "reported_by": {"role": "driver", "callback_phone": "05 61 00 00 17"},
        "occurred_at": (now - dt.timedelta(minutes=4)).isoformat(),
        "state": "just_happened",
        "natures": ["physical_assault_staff"],
        "primary_nature": "physical_assault_staff",
        "narrative": "Le conducteur de la ligne 14 est frappé au visage par un voyageur.",
        "location": {
            "mode": 3,
            "place": "on_board",
            "route_id": "demo:14",
            "stop_id": "demo:SP_jeanne-darc_14",
            "vehicle_id": "1742",
            "coordinates": {"lat": 43.60938, "lon": 1.44649, "accuracy_m": 15, "source": "avl"},
        },
        "injuries": {"count": 1, "severity": "minor"},
        "emergency_services_called": False,
        "suspects": {
            "count": 1,
            "status": "fled",
            "flight_direction": "Vers la place Jeanne-d'Arc",
            "weapon": "none",
            "description": "Blouson noir, casquette blanche.",
        },
        "victims": [
            {
                "kind": "staff",
                "staff_function": "driver",
                "on_duty": True,
                "injury": "minor",
                "wants_to_file_complaint": "yes",
                "contact": {"name": "Agent Fictif", "email": "agent.fictif@example.org"},
                "consents": {"appointment_contact": True},
            }
        ],
        "witnesses_count": 2,
        "video": {
            "exists": "yes",
            "sources": ["on_board"],
            "erased_after": (now + dt.timedelta(days=3)).isoformat(),
        },
    }


def wait_for_appointment(flow: Flow, incident_id: str) -> tuple[Any, Any, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with flow.db.transaction() as session:
            found = session.execute(
                select(Appointment, ComplaintSlot, AppointmentRequest)
                .join(ComplaintSlot, ComplaintSlot.id == Appointment.slot_id)
                .join(AppointmentRequest, AppointmentRequest.id == Appointment.request_id)
                .where(AppointmentRequest.incident_id == incident_id)
            ).first()
        if found is not None:
            appointment, slot, request = found
            return appointment, slot, request
        time.sleep(0.2)
    raise AssertionError(f"no appointment for the incident within {WAIT_SECONDS} s")


def aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def test_an_assaulted_driver_gets_an_appointment_an_email_and_the_officer_the_summary(
    flow: Flow, signed_in: Any, tmp_path: Path
) -> None:
    started = time.monotonic()
    response = requests.post(
        f"{flow.server.url}/api/v1/incidents",
        json=assaulted_driver("E2E-RDV-1"),
        headers=flow.headers,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    incident_id = response.json()["id"]

    # Booked within seconds, at the station of the incident's commune, within the delay.
    appointment, slot, request = wait_for_appointment(flow, incident_id)
    assert time.monotonic() - started < WAIT_SECONDS
    with flow.db.transaction() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        assert incident.insee_code == "31555"
        received_at, priority = aware(incident.received_at), incident.priority
    assert appointment.status == "booked"
    assert appointment.station_code == "csp-toulouse"
    assert slot.reserved
    assert aware(slot.starts_at) > received_at
    assert aware(slot.starts_at) <= aware(request.book_by)
    if priority in ("P1", "P2"):
        assert aware(request.book_by) <= received_at + dt.timedelta(days=2)

    # The email with its calendar file reached the SMTP server.
    messages = flow.smtp.wait_for(
        lambda found: any("E2E-RDV-1" in m.get_body(("plain",)).get_content() for m in found),
        timeout=WAIT_SECONDS,
    )
    (message,) = [m for m in messages if "E2E-RDV-1" in m.get_body(("plain",)).get_content()]
    assert "agent.fictif@example.org" in message["To"]
    assert "referent@tisseo.test" in message["To"]
    body = message.get_body(("plain",)).get_content()
    assert "Commissariat central de Toulouse" in body
    assert "116 006" in body
    part = calendar_part(message)
    assert part is not None
    (event,) = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    assert event.decoded("DTSTART") == aware(slot.starts_at)

    # The station officer sees it, opens the summary, downloads the PDF.
    page = signed_in(OFFICER)
    page.goto(f"{flow.server.url}/commissariat")
    row = page.locator(f"#rdv-{appointment.id}")
    assert "E2E-RDV-1" in row.inner_text()
    assert "Conducteur" in row.inner_text()
    assert "Agent Fictif" not in page.content()  # no name in the list
    row.get_by_role("link", name="Synthèse").click()
    page.wait_for_load_state("networkidle")
    summary = page.locator("article.synthese").inner_text()
    for expected in (
        "Synthèse pré-remplie pour le dépôt de plainte",
        "Le conducteur de la ligne 14 est frappé au visage",
        "Blouson noir, casquette blanche.",
        "Vers la place Jeanne-d'Arc",
        "Toulouse (31555)",  # the commune, by name
        "Jeanne d'Arc",  # the stop, from the GTFS feed
        "Agent Fictif",
        "Effacement proche : réquisitionner les images",
        "E2E-RDV-1",
    ):
        assert expected in summary, expected
    screenshot(page, "complaint-summary")
    with page.expect_download() as download_info:
        page.locator("#pdf").click()
    download = download_info.value
    path = tmp_path / "synthese.pdf"
    download.save_as(str(path))
    assert path.read_bytes().startswith(b"%PDF")
    assert download.suggested_filename == f"synthese-plainte-{appointment.id}.pdf"

    # Another station's officer does not see it.
    other = signed_in(OTHER_OFFICER)
    answer = other.goto(f"{flow.server.url}/commissariat/rendez-vous/{appointment.id}/synthese")
    assert answer is not None
    assert answer.status == 404
