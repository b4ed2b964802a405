"""The station's and the operator's appointment pages: what they list and what they do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake_service.cli import main
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    EmailMessage,
    Operator,
)
from intake_service.platform.db import Database
from tests.appointment_data import (
    PAGE_PASSWORD,
    add_request,
    add_slot,
    add_station,
    book,
    page_client,
    victim_sheet,
)
from tests.factories import create_tokens


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    tokens = create_tokens(db, clock.now)
    add_station(db, clock.now)
    return tokens


def new_request(app: Any, db: Any, clock: Any, headers: Any, reference: str, **kw: Any) -> int:
    response = app.test_client().post(
        "/api/v1/incidents", json=victim_sheet(reference), headers=headers["operator"]
    )
    assert response.status_code == 201, response.get_json()
    return add_request(db, response.get_json()["id"], clock.now, **kw)


def test_the_station_page_lists_without_names_and_moves_cancels_and_marks(app, db, clock, headers):
    now = clock.now
    first = book(
        db,
        new_request(app, db, clock, headers, "PG-1"),
        add_slot(db, "csp-toulouse", now + dt.timedelta(hours=20)),
        now,
    )
    second = book(
        db,
        new_request(app, db, clock, headers, "PG-2"),
        add_slot(db, "csp-toulouse", now + dt.timedelta(hours=22)),
        now,
    )
    new_request(app, db, clock, headers, "PG-WAIT")  # waiting
    free = add_slot(db, "csp-toulouse", now + dt.timedelta(hours=30), reserved=False)
    officer = page_client(app, db, now, "station_officer", "csp-toulouse")

    page = officer.get("/commissariat").get_data(as_text=True)
    assert "PG-1" in page
    assert "PG-WAIT" in page  # the queue
    assert "Conducteur" in page
    assert "Agent Fictif" not in page  # no name in the lists
    assert "Réservé aux rendez-vous prioritaires" in page

    moved = officer.post(
        f"/commissariat/rendez-vous/{first}/deplacer", data={"creneau": free, "motif": "Travaux"}
    )
    assert moved.status_code == 303
    cancelled = officer.post(
        f"/commissariat/rendez-vous/{second}/annuler", data={"motif": "Officier absent"}
    )
    assert cancelled.status_code == 303
    refused = officer.post(f"/commissariat/rendez-vous/{second}/annuler", data={"motif": ""})
    assert refused.status_code == 303  # back to the page, with the message
    with db.transaction() as session:
        statuses = {a.id: a.status for a in session.scalars(select(Appointment))}
        assert statuses[first] == "rescheduled"
        assert statuses[second] == "cancelled"
        kinds = sorted(message.kind for message in session.scalars(select(EmailMessage)))
    assert "rescheduled" in kinds
    assert "cancelled" in kinds

    # Once started, the officer says whether the victim came: a shift later, signed in
    # again (a session ends 12 h after sign-in, issue 17).
    clock.advance(hours=31)
    again = officer.post(
        "/connexion",
        data={"email": "station_officer.csp-toulouse@pages.test", "password": PAGE_PASSWORD},
    )
    assert again.status_code == 302
    with db.transaction() as session:
        current = session.scalars(
            select(Appointment).where(Appointment.status == "booked", Appointment.slot_id == free)
        ).one()
    marked = officer.post(f"/commissariat/rendez-vous/{current.id}/issue", data={"issue": "missed"})
    assert marked.status_code == 303
    with db.transaction() as session:
        assert session.get(Appointment, current.id).status == "missed"  # type: ignore[union-attr]


def test_the_officer_generates_and_closes_slots(app, db, clock, headers):
    officer = page_client(app, db, clock.now, "station_officer", "csp-toulouse")
    generated = officer.post(
        "/commissariat/creneaux/generer",
        data={
            "du": "2026-03-16",
            "au": "2026-03-17",
            "duree": "60",
            "part_reservee": "50",
            "horaires_0": "09:00-11:00",
            "horaires_1": "14:00-16:00",
        },
    )
    assert generated.status_code == 303
    with db.transaction() as session:
        slots = list(session.scalars(select(ComplaintSlot).order_by(ComplaintSlot.starts_at)))
    assert len(slots) == 4
    assert sum(slot.reserved for slot in slots) == 2
    follow = officer.get("/commissariat").get_data(as_text=True)
    assert "4 créneau(x) créé(s)." in follow
    assert officer.post(f"/commissariat/creneaux/{slots[0].id}/fermer").status_code == 303
    with db.transaction() as session:
        assert session.get(ComplaintSlot, slots[0].id).closed_at is not None  # type: ignore[union-attr]

    bad = officer.post(
        "/commissariat/creneaux/generer",
        data={"du": "2026-03-16", "au": "2026-03-17", "horaires_0": "9 à 11"},
    )
    assert bad.status_code == 303
    assert "n&#39;est pas une plage" in officer.get("/commissariat").get_data(as_text=True)


def test_the_operator_accepts_an_offer_and_cancels_an_appointment(app, db, clock, headers):
    now = clock.now
    add_slot(db, "csp-toulouse", now + dt.timedelta(hours=20))
    offer = new_request(app, db, clock, headers, "OP-OFFER", state="offered")
    booked = book(
        db,
        new_request(app, db, clock, headers, "OP-BOOKED"),
        add_slot(db, "csp-toulouse", now + dt.timedelta(hours=26)),
        now,
    )
    operator = page_client(app, db, now, "operator", "tisseo")
    page = operator.get("/suivi/rendez-vous").get_data(as_text=True)
    assert "OP-OFFER" in page
    assert "Accepter la proposition" in page
    assert "Commissariat central de Toulouse" in page

    assert operator.post(f"/suivi/rendez-vous/demandes/{offer}/accepter").status_code == 303
    cancelled = operator.post(
        f"/suivi/rendez-vous/{booked}/annuler", data={"motif": "Agent en arrêt"}
    )
    assert cancelled.status_code == 303
    with db.transaction() as session:
        request = session.get(AppointmentRequest, offer)
        assert request is not None
        assert request.state in ("booked", "waiting")
        assert session.get(Appointment, booked).status == "cancelled"  # type: ignore[union-attr]

    mistral = page_client(app, db, now, "operator", "mistral")
    assert "OP-OFFER" not in mistral.get("/suivi/rendez-vous").get_data(as_text=True)
    assert mistral.post(f"/suivi/rendez-vous/demandes/{offer}/accepter").status_code == 404


def test_operators_add_takes_the_referent_email(tmp_path: Path) -> None:
    env = {"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": "", "BROKER_URL": ""}
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    added = runner.invoke(
        main,
        ["operators", "add", "tisseo", "--name", "Tisséo", "--referent-email", "rdv@tisseo.fr"],
        env=env,
    )
    assert added.exit_code == 0, added.output
    renamed = runner.invoke(main, ["operators", "add", "tisseo", "--name", "Tisséo T"], env=env)
    assert renamed.exit_code == 0
    wrong = runner.invoke(
        main, ["operators", "add", "tisseo", "--name", "T", "--referent-email", "nope"], env=env
    )
    assert wrong.exit_code != 0
    database = Database(f"sqlite:///{tmp_path / 'instance' / 'intake.sqlite'}")
    with database.transaction() as session:
        operator = session.scalars(select(Operator)).one()
        assert (operator.name, operator.referent_email) == ("Tisséo T", "rdv@tisseo.fr")
    database.dispose()


def test_an_email_that_cannot_be_sent_is_listed_on_the_station_page(app, db, clock, headers):
    from intake_service.appointments import notifications

    now = clock.now
    response = app.test_client().post(
        "/api/v1/incidents",
        json=victim_sheet("PG-NOMAIL", contact={"name": "A", "phone": "0612345678"}),
        headers=headers["operator"],
    )
    request_id = add_request(db, response.get_json()["id"], now)
    appointment_id = book(
        db, request_id, add_slot(db, "csp-toulouse", now + dt.timedelta(hours=20)), now
    )
    with db.transaction() as session:  # no victim email, no operator referent
        message = notifications.appointment_notice(
            session, appointment_id, "booked", now, overrides=None
        )
        assert (message.state, message.recipients) == ("failed", [])
    officer = page_client(app, db, now, "station_officer", "csp-toulouse")
    page = officer.get("/commissariat").get_data(as_text=True)
    assert "Courriels non envoyés" in page
    assert "PG-NOMAIL" in page
    assert "aucun destinataire" in page
    with db.transaction() as session:
        assert session.get(Appointment, appointment_id).status == "booked"  # type: ignore[union-attr]
