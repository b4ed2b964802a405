"""Demo data for the embedded mode: two operators and a token for each role.

The demo tokens are fixed strings so the README's examples work as written; the
CLI refuses to load them outside the embedded mode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access.accounts import add_user
from intake_service.access.tokens import create_token, hash_token
from intake_service.models import ApiToken, User
from intake_service.territory.gtfs import import_feed
from intake_service.territory.gtfs_feed import read_feed
from intake_service.territory.operators import add_operator
from intake_service.territory.zones import read_zones, replace_zones

if TYPE_CHECKING:
    from intake_service.appointments.policy import BookingPolicy

OPERATORS = (
    ("tisseo", "Tisséo (Toulouse) — démo"),
    ("mistral", "Réseau Mistral (Toulon) — démo"),
    # The overseas and Corsican examples of examples/sheets/valid are theirs.
    ("citalis", "Citalis (Saint-Denis, La Réunion) — démo"),
    ("muvitarra", "Muvitarra (Ajaccio) — démo"),
)

# Demo accounts for the pages (embedded mode only), one per role with pages.
DEMO_PASSWORD = "demo-demo-demo"  # noqa: S105 - printed on start; embedded mode only
USERS = (
    ("agent@tisseo.demo", "operator", "tisseo"),
    ("agent@mistral.demo", "operator", "mistral"),
    ("cic@ddsp31.demo", "command_centre", "ddsp-31"),
    ("cic@ddsp83.demo", "command_centre", "ddsp-83"),
    # GPO transports: the referent and a partner of gpo-toulouse.
    ("referent@demo.gpo", "gpo_referent", "gpo-toulouse"),
    ("partenaire@demo.gpo", "gpo_partner", "gpo-toulouse:pm-toulouse"),
    # The police station taking complaints in Toulouse.
    ("plainte@csp-toulouse.demo", "station_officer", "csp-toulouse"),
    # Above one GPO: the ministry and the DDSP 31's direction (aggregates only).
    ("ministere@demo.gouv", "national", "*"),
    ("direction@ddsp31.demo", "departement", "31"),
)

TOKENS = (
    ("operator", "tisseo", "demo-operator-tisseo"),
    ("operator", "mistral", "demo-operator-mistral"),
    ("operator", "citalis", "demo-operator-citalis"),
    ("operator", "muvitarra", "demo-operator-muvitarra"),
    ("command_centre", "ddsp-31", "demo-command-centre-ddsp-31"),
    ("command_centre", "ddsp-83", "demo-command-centre-ddsp-83"),
    ("gpo_referent", "gpo-toulouse", "demo-gpo-referent"),
    ("gpo_partner", "gpo-toulouse:pm-toulouse", "demo-gpo-partner"),
    ("station_officer", "csp-toulouse", "demo-station-officer"),
    ("admin", "*", "demo-admin"),
    ("national", "*", "demo-national"),
    ("departement", "31", "demo-departement-31"),
)


DEMO_DATA = Path(__file__).parent
GTFS_FEEDS = (
    ("tisseo", DEMO_DATA / "gtfs" / "tisseo-demo"),
    ("mistral", DEMO_DATA / "gtfs" / "mistral-demo"),
    ("citalis", DEMO_DATA / "gtfs" / "citalis-demo"),
)
POLICE_ZONES = DEMO_DATA / "police_zones.csv"


def load(
    session: Session,
    *,
    now: dt.datetime,
    commune_of: Callable[[float, float], str | None],
    policy: BookingPolicy,
) -> list[tuple[str, str, str]]:
    """Add the demo operators, their GTFS feeds, the police-zone table and a token per role
    (and the stations, whose new slots go to waiting requests with ``policy``).

    Idempotent; returns (role, scope, secret) rows.
    """
    for code, name in OPERATORS:
        add_operator(session, code, name, now=now)
    for code, path in GTFS_FEEDS:
        import_feed(
            session,
            code,
            read_feed(path),
            source=f"demo:{path.name}",
            now=now,
            commune_of=commune_of,
        )
    replace_zones(session, read_zones(POLICE_ZONES))
    known = set(session.scalars(select(User.email)))
    for email, role, scope in USERS:
        if email not in known:
            add_user(session, email, DEMO_PASSWORD, role, scope, now=now)
    existing = set(session.scalars(select(ApiToken.token_hash)))
    for role, scope, secret in TOKENS:
        if hash_token(secret) not in existing:
            create_token(session, role, scope, f"demo {role} {scope}", now=now, secret=secret)
    load_gpo(session, now=now)
    load_second_gpo(session, now=now)
    load_stations(session, now=now, policy=policy)
    load_directory(session, now=now)
    return list(TOKENS)


# --- GPO transports: a GPO, its partners and one problem ---------------------

GPO = ("gpo-toulouse", "GPO transports Toulouse — démo", ["ddsp-31"], ["tisseo"])
GPO_PARTNERS = (
    ("pm-toulouse", "Police municipale de Toulouse"),
    ("tisseo", "Tisséo Réseau"),
    ("smtc", "Tisséo Collectivités"),
)
DEMO_PROBLEM = {
    "title": "Jets de pierres sur la ligne 14 à Jeanne d'Arc, le soir",
    "description": "Des bus de la ligne 14 reçoivent des pierres aux abords de l'arrêt "
    "Jeanne d'Arc, en soirée, surtout en fin de semaine.",
    "scope": {
        "operators": ["tisseo"],
        "routes": [{"operator": "tisseo", "route_id": "demo:14"}],
        "stops": [
            {"operator": "tisseo", "stop_id": "demo:SA_jeanne-darc"},
            {"operator": "tisseo", "stop_id": "demo:SP_jeanne-darc_14"},
        ],
        "natures": ["projectile", "vandalism"],
        "hours": {"from": 18, "to": 2},
    },
    "partners": ["pm-toulouse", "tisseo"],
    "state": "qualified",
}


def load_gpo(session: Session, *, now: dt.datetime) -> None:
    """The demo GPO of Toulouse, its partners and a stone-throwing problem. Idempotent."""
    from intake_service.access.rules.permissions import Principal
    from intake_service.gpo import actions, gpos, problems
    from intake_service.models import Problem

    code, name, services, operator_codes = GPO
    gpos.add_gpo(session, code, name, services, operator_codes, False, now)
    for partner_code, partner_name in GPO_PARTNERS:
        gpos.add_partner(session, code, partner_code, partner_name)
    title = str(DEMO_PROBLEM["title"])
    if session.scalar(select(Problem.id).where(Problem.gpo_code == code, Problem.title == title)):
        return
    referent = Principal(role="gpo_referent", scope=code, actor="demo (données de démonstration)")
    problem = problems.create_problem(session, referent, code, DEMO_PROBLEM, now)
    actions.add_action(
        session,
        referent,
        problem.id,
        {
            "what": "Patrouilles de la police municipale le vendredi soir à Jeanne d'Arc",
            "owner_partner": "pm-toulouse",
            "due_on": (now + dt.timedelta(days=30)).date(),
        },
        now,
    )
    # GPO meetings: the next one, a week ahead, with its agenda from the brief.
    from intake_service.gpo import meetings

    meetings.plan_meeting(
        session,
        referent,
        code,
        {"planned_at": now + dt.timedelta(days=7), "place": "Hôtel de police, salle du GPO"},
        now,
    )


# --- The national view (issue 16): a second GPO, in another département ------

SECOND_GPO = ("gpo-toulon", "GPO transports Toulon — démo", ["ddsp-83"], ["mistral"], "83")
SECOND_PROBLEM = {
    "title": "Incivilités à bord des bus de nuit de Toulon",
    "description": "Insultes et menaces envers les conducteurs des lignes de nuit.",
    "scope": {"operators": ["mistral"], "natures": ["threat_or_insult_staff", "incivility"]},
    "partners": ["pm-toulon"],
    "state": "qualified",
}
# Days before the demo's start on which the GPO of Toulon met (monthly).
SECOND_GPO_MEETINGS = (84, 56, 28)


def load_second_gpo(session: Session, *, now: dt.datetime) -> None:
    """The GPO of Toulon (département 83, monthly), a partner, a problem and three held
    meetings: the national view shows two départements. Idempotent."""
    import uuid

    from intake_service.access.rules.permissions import Principal
    from intake_service.gpo import gpos, problems
    from intake_service.models import GpoMeeting, Problem

    code, name, services, operator_codes, department = SECOND_GPO
    loaded = session.scalar(select(Problem.id).where(Problem.gpo_code == code)) is not None
    gpos.add_gpo(
        session, code, name, services, operator_codes, False, now - dt.timedelta(days=120),
        department=department, meeting_rhythm="monthly",
    )  # fmt: skip
    gpos.add_partner(session, code, "pm-toulon", "Police municipale de Toulon")
    if loaded:
        return
    referent = Principal(role="gpo_referent", scope=code, actor="demo (données de démonstration)")
    problems.create_problem(session, referent, code, SECOND_PROBLEM, now - dt.timedelta(days=60))
    for days in SECOND_GPO_MEETINGS:
        held = now - dt.timedelta(days=days)
        session.add(
            GpoMeeting(
                id=str(uuid.uuid4()),
                gpo_code=code,
                planned_at=held,
                place="Commissariat de Toulon",
                status="held",
                held_at=held,
                agenda=[],
                agenda_sent_at=None,
                reminded_at=None,
                minutes=None,
                created_at=held,
                created_by="demo",
                updated_at=held,
                version=1,
            )
        )


# --- Priority complaint appointments: two stations and a week of slots -------

STATIONS = DEMO_DATA / "stations.csv"
# Weekday (0 = Monday) → opening hours for complaints, in Paris time.
STATION_HOURS = {day: [("09:00", "12:00"), ("14:00", "17:00")] for day in range(5)}


def load_stations(session: Session, *, now: dt.datetime, policy: BookingPolicy) -> None:
    """The demo police stations and the coming week of slots, half reserved. Idempotent."""
    from intake_service.appointments import slots, stations
    from intake_service.appointments.rules import eligibility

    rows = stations.read_stations(STATIONS)
    stations.import_stations(session, rows, now)
    today = now.astimezone(eligibility.PARIS).date()
    for row in rows:
        slots.generate_slots(
            session,
            row.code,
            today,
            today + dt.timedelta(days=6),
            STATION_HOURS,
            30,
            0.5,
            now,
            policy=policy,
        )


# --- The direct line's directory: each demo entity, its referents and mailbox ------

# A referent: (name, function, phone, email).
DemoReferent = tuple[str, str, str | None, str | None]
# (kind, code, name, mailbox, hours, referents).
DemoEntity = tuple[str, str, str, str, str, list[DemoReferent]]


def _partner(code: str, name: str) -> DemoEntity:
    referent: DemoReferent = (
        f"Référent {name}",
        "Correspondant du GPO",
        None,
        f"referent-{code}@partenaires.example.org",
    )
    return (
        "partner",
        f"{GPO[0]}:{code}",
        name,
        f"gpo-{code}@partenaires.example.org",
        "Jours ouvrés",
        [referent],
    )


DIRECTORY: tuple[DemoEntity, ...] = (
    (
        "operator",
        "tisseo",
        "Tisséo — PC sûreté (démo)",
        "pc-surete@tisseo.example.org",
        "24 h/24, 7 j/7",
        [
            (
                "Julie Martin",
                "Cheffe du PC sûreté",
                "05 61 00 10 01",
                "j.martin@tisseo.example.org",
            ),
            ("Karim Benali", "Adjoint sûreté", "05 61 00 10 02", "k.benali@tisseo.example.org"),
        ],
    ),
    (
        "operator",
        "mistral",
        "Réseau Mistral — PC sécurité (démo)",
        "pc-securite@mistral.example.org",
        "De 5 h à 1 h, 7 j/7",
        [("Laure Fabre", "Responsable sûreté", "04 94 00 20 01", "l.fabre@mistral.example.org")],
    ),
    (
        "police_service",
        "ddsp-31",
        "CIC de la DIPN 31 (démo)",
        "cic-ddsp31@police.example.org",
        "24 h/24, 7 j/7",
        [
            (
                "Capitaine Claire Dupont",
                "Cheffe de salle",
                "05 61 12 77 77",
                "c.dupont@police.example.org",
            ),
            ("Lieutenant Marc Roux", "Officier de liaison transports", "05 61 12 77 78", None),
        ],
    ),
    (
        "police_service",
        "ddsp-83",
        "CIC de la DIPN 83 (démo)",
        "cic-ddsp83@police.example.org",
        "24 h/24, 7 j/7",
        [
            (
                "Capitaine Paul Giraud",
                "Chef de salle",
                "04 94 18 88 88",
                "p.giraud@police.example.org",
            )
        ],
    ),
    (
        "police_station",
        "csp-toulouse",
        "Commissariat central de Toulouse (démo)",
        "plaintes-csp-toulouse@police.example.org",
        "Plaintes sur rendez-vous : du lundi au vendredi, 9 h – 12 h et 14 h – 17 h",
        [("Brigadier Anne Colin", "Accueil des plaintes", "05 61 12 70 00", None)],
    ),
    (
        "police_station",
        "csp-toulon",
        "Commissariat central de Toulon (démo)",
        "plaintes-csp-toulon@police.example.org",
        "Du lundi au vendredi, 9 h – 17 h",
        [("Brigadier Luc Ferrand", "Accueil des plaintes", "04 94 09 80 00", None)],
    ),
    (
        "gpo",
        "gpo-toulouse",
        GPO[1],
        "gpo-transports-toulouse@police.example.org",
        "Réunion le premier mardi du mois",
        [
            (
                "Commandant Sophie Leroy",
                "Référente du GPO",
                "05 61 12 76 00",
                "s.leroy@police.example.org",
            )
        ],
    ),
    *(_partner(code, name) for code, name in GPO_PARTNERS),
)


def load_directory(session: Session, *, now: dt.datetime) -> None:
    """The demo entities with their referents and mailboxes, every notice chosen.
    Idempotent: an entity already there (maybe changed on its page) is kept."""
    from intake_service.directory.rules.notices import DEFAULT_NOTICES
    from intake_service.models import DirectoryEntity, DirectoryReferent
    from schemas.fields import normalise_phone

    existing = {
        (kind, code)
        for kind, code in session.execute(select(DirectoryEntity.kind, DirectoryEntity.code))
    }
    for kind, code, name, mailbox, hours, referents in DIRECTORY:
        if (kind, code) in existing:
            continue
        session.add(
            DirectoryEntity(
                kind=kind,
                code=code,
                name=name,
                mailbox=mailbox,
                hours=hours,
                notices=list(DEFAULT_NOTICES),
                digest=False,
                created_at=now,
                updated_at=now,
                version=1,
                referents=[
                    DirectoryReferent(
                        position=position,
                        name=referent_name,
                        function=function,
                        phone=normalise_phone(phone) if phone else None,
                        email=email,
                    )
                    for position, (referent_name, function, phone, email) in enumerate(referents)
                ],
            )
        )
    session.flush()
