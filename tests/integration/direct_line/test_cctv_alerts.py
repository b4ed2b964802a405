"""A CCTV requisition's full path with a controlled clock, on SQLite and PostgreSQL: the
24 h and 2 h alerts are written once each to the operator's functional mailbox and
received by a real SMTP server (aiosmtpd) through the mailer; the requisition extracted
before the deadline is counted by the measure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from intake_service.models import CctvRequisition, MailboxNotice
from intake_service.territory import zones
from tests.appointment_data import add_station
from tests.directory_data import ZONES, add_entity, toulouse_sheet
from tests.factories import BASE_SHEET, create_tokens
from tests.smtp import SmtpServer, running
from workers.mailer import Mailer
from workers.periodic import DirectLineAlerts

PUBLIC_URL = "https://ligne-directe.example.org"
OPERATOR_MAILBOX = "pc-surete@tisseo.example.org"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running() as server:
        yield server


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        zones.replace_zones(session, ZONES)
    add_entity(db, "operator", "tisseo", clock.now, mailbox=OPERATOR_MAILBOX)
    return headers


def notices(db: Any, kind: str) -> list[str]:
    with db.reading() as session:
        return list(
            session.scalars(
                select(MailboxNotice.dedup_key)
                .where(MailboxNotice.kind == kind)
                .order_by(MailboxNotice.id)
            )
        )


def test_the_24h_and_2h_alerts_are_emailed_once_each_and_the_measure_counts_it(
    app: Any, db: Any, clock: Any, headers: Any, smtp_server: SmtpServer
) -> None:
    client = app.test_client()
    start = clock.now
    deadline = start + dt.timedelta(hours=30)
    video = {**BASE_SHEET["video"], "erased_after": deadline.isoformat()}
    submitted = client.post(
        "/api/v1/incidents",
        json=toulouse_sheet("TSO-CCTV-ALERT", video=video),
        headers=headers["operator"],
    )
    assert submitted.status_code == 201, submitted.get_json()
    incident_id = submitted.get_json()["id"]
    asked = client.post(
        f"/api/v1/incidents/{incident_id}/cctv-requisitions",
        json={"what": "Caméras embarquées du bus 1742, 18 h 15 – 18 h 40"},
        headers=headers["command_centre"],
    )
    assert asked.status_code == 201, asked.get_json()
    requisition_id = asked.get_json()["id"]
    assert asked.get_json()["erase_deadline"] == deadline.isoformat()
    alerts = DirectLineAlerts(db, public_url=PUBLIC_URL, clock=clock)
    mailer = Mailer(
        db, smtp_server.url, "ligne-directe@gpo.example", clock=clock, timeout_seconds=2
    )

    # At the request: the operator's mailbox is told at once; no alert yet (30 h left).
    assert alerts.run_once() == (0, 0)
    assert notices(db, "cctv_requested") == [f"cctv-requested:{requisition_id}"]
    assert mailer.send_due() == 1
    (requested,) = smtp_server.wait_for(lambda messages: len(messages) == 1)
    assert requested["To"] == OPERATOR_MAILBOX
    assert requested["Subject"].startswith("[P1] Réquisition d'images")

    # 24 h before the deadline (and a minute): one alert, whatever the number of runs.
    clock.advance(hours=6, minutes=1)
    assert alerts.run_once() == (1, 0)
    assert alerts.run_once() == (0, 0)
    assert notices(db, "cctv_deadline") == [f"cctv-24h:{requisition_id}"]
    assert mailer.send_due() == 1
    messages = smtp_server.wait_for(lambda messages: len(messages) == 2)
    day = messages[1]
    assert day["To"] == OPERATOR_MAILBOX
    assert "moins de 24 h" in day["Subject"]
    assert "TSO-CCTV-ALERT" in day["Subject"]
    body = day.get_content()
    assert "effacement dans 23 h 59" in body
    assert f"{PUBLIC_URL}/operateur/incidents/{incident_id}" in body

    # Still nothing new until 2 h before.
    clock.advance(hours=20)
    assert alerts.run_once() == (0, 0)
    clock.advance(hours=2)  # 1 h 59 before the deadline
    assert alerts.run_once() == (1, 0)
    assert alerts.run_once() == (0, 0)
    assert notices(db, "cctv_deadline") == [
        f"cctv-24h:{requisition_id}",
        f"cctv-2h:{requisition_id}",
    ]
    assert mailer.send_due() == 1
    messages = smtp_server.wait_for(lambda messages: len(messages) == 3)
    assert "moins de 2 h" in messages[2]["Subject"]
    assert "effacement dans 1 h 59" in messages[2].get_content()
    assert mailer.send_due() == 0
    assert len(smtp_server.messages) == 3

    # Extracted before the deadline: counted, and no more alerts.
    clock.advance(hours=1)
    extracted = client.post(
        f"/api/v1/cctv-requisitions/{requisition_id}/transitions",
        json={"state": "extracted", "extraction_reference": "EXT-2026-0042"},
        headers={**headers["operator"], "If-Match": '"1"'},
    )
    assert extracted.status_code == 200, extracted.get_json()
    assert extracted.get_json()["extracted_in_time"] is True
    assert alerts.run_once() == (0, 0)
    with db.reading() as session:
        stored = session.get(CctvRequisition, requisition_id)
        assert stored is not None
        assert stored.alerted_24h_at == start + dt.timedelta(hours=6, minutes=1)
        assert stored.alerted_2h_at == start + dt.timedelta(hours=28, minutes=1)
        assert session.scalar(select(func.count()).select_from(MailboxNotice)) == 3

    for role, key in (("command_centre", "by_service"), ("operator", "by_operator")):
        measures = client.get("/api/v1/cctv-requisitions/measures", headers=headers[role])
        assert measures.status_code == 200, measures.get_json()
        counted = measures.get_json()
        assert counted["by_operator"] == [
            {"code": "tisseo", "requested": 1, "extracted_in_time": 1, "share": 1.0}
        ], role
        assert counted["by_service"] == [
            {"code": "ddsp-31", "requested": 1, "extracted_in_time": 1, "share": 1.0}
        ], key
    # Another service counts none of it.
    admin = client.get(
        "/api/v1/cctv-requisitions/measures",
        query_string={"since": (start + dt.timedelta(hours=1)).isoformat()},
        headers=headers["admin"],
    )
    assert admin.status_code == 200
    assert admin.get_json()["by_operator"] == []


def test_a_late_extraction_is_not_counted(app: Any, db: Any, clock: Any, headers: Any) -> None:
    add_station(db, clock.now)  # csp-toulouse, of ddsp-31: its officer requests
    client = app.test_client()
    deadline = clock.now + dt.timedelta(hours=3)
    video = {**BASE_SHEET["video"], "erased_after": deadline.isoformat()}
    incident_id = client.post(
        "/api/v1/incidents",
        json=toulouse_sheet("TSO-CCTV-LATE", video=video),
        headers=headers["operator"],
    ).get_json()["id"]
    requisition_id = client.post(
        f"/api/v1/incidents/{incident_id}/cctv-requisitions",
        json={"what": "Caméra du quai"},
        headers=headers["station_officer"],
    ).get_json()["id"]
    alerts = DirectLineAlerts(db, public_url=PUBLIC_URL, clock=clock)
    # Asked 3 h before: the 24 h alert at once; then the 2 h one.
    assert alerts.run_once() == (1, 0)
    clock.advance(hours=1, minutes=30)
    assert alerts.run_once() == (1, 0)
    clock.advance(hours=2)
    extracted = client.post(
        f"/api/v1/cctv-requisitions/{requisition_id}/transitions",
        json={"state": "extracted", "extraction_reference": "EXT-LATE"},
        headers={**headers["operator"], "If-Match": '"1"'},
    )
    assert extracted.get_json()["extracted_in_time"] is False
    measures = client.get(
        "/api/v1/cctv-requisitions/measures", headers=headers["command_centre"]
    ).get_json()
    assert measures["by_service"] == [
        {"code": "ddsp-31", "requested": 1, "extracted_in_time": 0, "share": 0.0}
    ]


def test_the_alerts_worker_also_notices_overdue_requests(
    app: Any, db: Any, clock: Any, headers: Any
) -> None:
    client = app.test_client()
    incident_id = client.post(
        "/api/v1/incidents", json=toulouse_sheet("TSO-RFI-LATE"), headers=headers["operator"]
    ).get_json()["id"]
    asked = client.post(
        f"/api/v1/incidents/{incident_id}/messages",
        json={"kind": "rfi", "text": "Direction de fuite ?"},
        headers=headers["command_centre"],
    )
    assert asked.status_code == 201, asked.get_json()
    alerts = DirectLineAlerts(db, public_url=PUBLIC_URL, clock=clock)
    assert alerts.run_once() == (0, 0)
    clock.advance(minutes=6)  # a P1's request is due in 5 minutes
    assert alerts.run_once() == (0, 1)
    assert alerts.run_once() == (0, 0)
    assert notices(db, "rfi_overdue") == [f"rfi-overdue:{asked.get_json()['id']}"]
