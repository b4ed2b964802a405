"""Who may do what: the one place that decides (``shared/domain/access-and-privacy.md``).

Views and use cases ask here; none decides inline. A record outside the caller's
scope is reported as absent (404), never as forbidden, so ids cannot be probed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from intake_service.territory.rules.routing import UNROUTED_SERVICE

ROLES = (
    "operator",
    "command_centre",
    "gpo_referent",
    "gpo_partner",
    "station_officer",
    "admin",
    # Above one GPO (issue 16): aggregates only, never an incident or personal data.
    "national",
    "departement",
)
# The roles that work incidents, problems or appointments (everyone but the two
# aggregate-only roles above one GPO).
FIELD_ROLES = frozenset(ROLES) - {"national", "departement"}

# A département's code: 01–95 (2A, 2B for Corsica), 971–976 overseas.
DEPARTMENT_CODE = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2[AB]|97[1-6])$")

# What each role's scope names.
SCOPE_KIND = {
    "operator": "operator code",
    "command_centre": "service code (ddsp-83, ggd-31, pp)",
    "gpo_referent": "GPO code",
    "gpo_partner": "GPO code, or <GPO code>:<partner code>",
    "station_officer": "police station code",
    "admin": "*",
    "national": "*",
    "departement": "département code (31, 2A, 974)",
}

# action -> roles allowed to attempt it (the scope then decides which records).
PERMISSIONS: dict[str, frozenset[str]] = {
    "incident.submit": frozenset({"operator"}),
    "incident.list": frozenset({"operator"}),
    "incident.read": frozenset({"operator", "command_centre"}),
    "incident.amend": frozenset({"operator"}),
    "incident.withdraw": frozenset({"operator"}),
    "incident.change_status": frozenset({"command_centre"}),
    # Take ("je prends"), release; reassigning also needs the account's supervisor flag.
    "incident.take": frozenset({"command_centre"}),
    # Duplicate reports: decide a pair, take an incident out of its group.
    "incident.group": frozenset({"command_centre"}),
    "command_centre.queue": frozenset({"command_centre"}),
    "webhook.manage": frozenset({"operator"}),
    # The operator's follow-up pages (the command centre has its console).
    "follow_up.view": frozenset({"operator"}),
    # The audit log names who did what, never the data itself: the admin's to read.
    "audit.read": frozenset({"admin"}),
    # GPO transports (gpo-problems.md). Partners read problems, their actions and
    # aggregates, never personal data; referents do everything about their GPO's problems.
    "gpo.read": frozenset({"gpo_referent", "gpo_partner"}),
    "gpo.manage": frozenset({"gpo_referent"}),
    "gpo.read_incidents": frozenset({"gpo_referent"}),
    "gpo.brief": frozenset({"gpo_referent", "gpo_partner"}),
    "gpo.complete_action": frozenset({"gpo_referent", "gpo_partner"}),
    # GPO meetings (issue 16): the referent plans and records them; partners read the
    # agenda and the minutes (their version) and give their view of an assessment.
    "gpo.meeting.read": frozenset({"gpo_referent", "gpo_partner"}),
    "gpo.meeting.manage": frozenset({"gpo_referent"}),
    "gpo.evaluate": frozenset({"gpo_referent", "gpo_partner"}),
    # Above one GPO: the ministry (national, every département) and a DDSP's direction
    # (departement, its own): aggregates per GPO and département, never an incident.
    "overview.read": frozenset({"national", "departement"}),
    "overview.export": frozenset({"national", "departement"}),
    # Where incidents happen (line × hour of the week, stops): counts, never a sheet.
    "hotspots.read": frozenset({"gpo_referent", "national"}),
    # Incident exports over a period: an operator its sheets, a command centre its service.
    "incident.export": frozenset({"operator", "command_centre"}),
    # The monthly statistics return of an operator's network (for the prefect).
    "statistics.monthly": frozenset({"operator"}),
    # Priority complaint appointments (appointments.md).
    "station.manage_slots": frozenset({"station_officer"}),
    "station.read_appointments": frozenset({"station_officer"}),
    "appointment.change": frozenset({"station_officer", "operator"}),
    "appointment.accept_offer": frozenset({"operator"}),
    "appointment.read": frozenset({"station_officer", "operator"}),
    "appointment.measures": frozenset({"station_officer", "operator", "gpo_referent", "admin"}),
    # The station says whether the victim came.
    "appointment.outcome": frozenset({"station_officer"}),
    # The direct line (issue 14): the incident's conversation, between its command
    # centre and its operator only; partners, GPO and stations never see it.
    "message.read": frozenset({"operator", "command_centre"}),
    "message.post": frozenset({"operator", "command_centre"}),
    # CCTV requisitions (issue 14): the police side of the incident (its CIC, a station
    # officer of its service) requests the footage; the operator answers each step.
    "cctv.read": frozenset({"operator", "command_centre", "station_officer"}),
    "cctv.request": frozenset({"command_centre", "station_officer"}),
    "cctv.update": frozenset({"operator"}),
    "cctv.measures": frozenset({"operator", "command_centre", "station_officer", "admin"}),
    # Files on the incident (photos, video extracts, PDFs), the same two sides only.
    "attachment.read": frozenset({"operator", "command_centre"}),
    "attachment.add": frozenset({"operator", "command_centre"}),
    # The direct line's directory: every role reads the entities it works with and keeps
    # its own (the admin every one); directory/rules/visibility.py decides which.
    "directory.read": FIELD_ROLES,
    "directory.edit": FIELD_ROLES,
}


# What an operator sees of the police's side of an incident's history: the steps,
# who by role, the outcome or cause; not which desk or officer, call signs or comments.
# ``grouped``: the change came from the group's lead (the same event reported by
# another sheet); the operator learns that much, never the other sheet.
OPERATOR_VISIBLE_DETAIL = frozenset(
    {"outcome", "cause_code", "cause", "reason", "rerouted_to", "resubmitted", "grouped"}
)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a token (or, later, a person) with one role and scope."""

    role: str
    scope: str
    # Who acted, as written in histories: "token:12 (label)".
    actor: str
    # A command centre's supervisor (a signed-in person's account says so; never a
    # token): reassigns the incidents its operators took.
    supervisor: bool = False


def actor_name(actor: str) -> str:
    """'user:3 (cic@ddsp31.test)' → 'cic@ddsp31.test'; a token's label likewise."""
    match = re.fullmatch(r"[a-z]+:\d+ \((.*)\)", actor)
    return match.group(1) if match else actor


def may(principal: Principal, action: str) -> bool:
    """Whether ``principal``'s role may attempt ``action`` at all."""
    return principal.role in PERMISSIONS.get(action, frozenset())


def sees_incident(principal: Principal, operator_code: str, service_code: str | None) -> bool:
    """Whether an incident of ``operator_code``, routed to ``service_code``, is in scope."""
    if principal.role == "operator":
        return principal.scope == operator_code
    if principal.role == "command_centre":
        # The national fallback desk works the incidents no service could be found for.
        return principal.scope == (service_code or UNROUTED_SERVICE)
    return False


def gpo_of(principal: Principal) -> str | None:
    """The GPO code of a referent or partner (a partner's scope is ``<gpo>:<partner>``)."""
    if principal.role not in ("gpo_referent", "gpo_partner"):
        return None
    return principal.scope.split(":", 1)[0]


def partner_of(principal: Principal) -> str | None:
    """The partner organisation of a ``gpo_partner`` (``gpo-toulouse:pm-toulouse``), if named."""
    if principal.role != "gpo_partner" or ":" not in principal.scope:
        return None
    return principal.scope.split(":", 1)[1]


def check_scope(role: str, scope: str) -> str | None:
    """Why ``scope`` is not valid for ``role``, or None when it is."""
    if role not in ROLES:
        return f"Unknown role {role!r}; roles are: {', '.join(ROLES)}."
    if role in ("admin", "national"):
        return None if scope == "*" else f"The {role} role's scope is '*'."
    if role == "departement":
        if DEPARTMENT_CODE.match(scope):
            return None
        return f"The departement role needs a {SCOPE_KIND[role]} as scope, not {scope!r}."
    if not scope or scope == "*" or len(scope) > 64:
        return f"The {role} role needs a {SCOPE_KIND[role]} as scope."
    return None


# --- Priority complaint appointments -------------------------------------------


def station_of(principal: Principal) -> str | None:
    """The police station code of a ``station_officer``, else None."""
    return principal.scope if principal.role == "station_officer" else None


# --- Above one GPO (issue 16) -----------------------------------------------------------


def departments_of(principal: Principal) -> frozenset[str] | None:
    """The départements whose aggregates ``principal`` reads: None for every one
    (national), its own for a ``departement``, none for any other role."""
    if principal.role == "national":
        return None
    if principal.role == "departement":
        return frozenset({principal.scope})
    return frozenset()
