"""Seeds of the appointment pages' rows: the station's and operator's pages,
the summary, the measures.

The stations, slots, the booked appointment (``<appointment_id>``), the offer
(``<request_id>``) and the free slot (``<slot_id>``) come from
``tests/access_seeds/appointments.py``, whose ``fresh: appointment`` and
``fresh: appointment_offer`` the page rows that change an appointment reuse. Here:
the forms' bodies.
"""

from __future__ import annotations

from typing import Any

from tests.access_seeds import appointments as booking_seeds


def seed(setting: Any) -> dict[str, str]:
    return {}


def _reschedule_form() -> dict[str, Any]:
    # The free slot made with the last fresh appointment.
    return {"creneau": str(booking_seeds._target["slot_id"]), "motif": "Horaires de service."}


BODIES = {
    "station_generate_form": (
        "form",
        lambda: {
            "du": "2026-03-23",
            "au": "2026-03-24",
            "duree": "60",
            "part_reservee": "50",
            "horaires_0": "09:00-11:00",
        },
    ),
    "station_cancel_form": ("form", lambda: {"motif": "Officier indisponible."}),
    "station_reschedule_form": ("form", _reschedule_form),
    "station_outcome_form": ("form", lambda: {"issue": "honoured"}),
    "operator_cancel_form": ("form", lambda: {"motif": "Agent en arrêt maladie."}),
}
