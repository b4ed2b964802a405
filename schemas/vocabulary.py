"""The closed vocabularies of the common incident sheet, version 1.

Kept apart from the schemas so the pure rule modules (priority, warnings) and the
pages can name the same values without importing marshmallow.
"""

CHANNELS = (
    "distress_radio",
    "silent_alarm",
    "phone",
    "app",
    "web_form",
    "relay_3117",
    "email",
)
REPORTER_ROLES = (
    "security_control_room",
    "driver",
    "ticket_inspector",
    "station_agent",
    "security_agent",
    "municipal_police",
    "other",
)
STATES = ("in_progress", "just_happened", "over")
NATURES = (
    "physical_assault_staff",
    "threat_or_insult_staff",
    "violence_passenger",
    "sexual_or_sexist_violence",
    "violent_theft",
    "theft",
    "projectile",
    "vandalism",
    "drugs",
    "weapon",
    "suspicious_package",
    "fare_evasion_with_resistance",
    "incivility",
    "other",
)
# GTFS route_type values the sheet accepts.
MODES = (0, 1, 2, 3, 4, 5, 6, 7, 11, 12)
PLACES = (
    "on_board",
    "platform",
    "station_hall",
    "station_access",
    "surroundings",
    "depot",
    "other",
)
VEHICLE_POSITIONS = ("front", "middle", "rear")
COORDINATE_SOURCES = ("avl", "gps", "manual")
# Ordered from least to most severe: the order is used for sorting.
SEVERITIES = ("none", "minor", "treated_on_site", "hospitalised", "life_threatening")
SUSPECT_STATUSES = ("on_site", "fled", "held_by_staff", "unknown")
WEAPONS = ("none", "blade", "firearm", "object", "unknown")
VICTIM_KINDS = ("staff", "passenger", "third_party")
STAFF_FUNCTIONS = ("driver", "ticket_inspector", "station_agent", "security_agent", "other")
COMPLAINT_WISHES = ("yes", "no", "undecided")
VIDEO_EXISTS = ("yes", "no", "unknown")
VIDEO_SOURCES = ("on_board", "station", "body_camera", "forward_facing")

PRIORITIES = ("P1", "P2", "P3", "P4")
STATUSES = (
    "received",
    "queued",
    "acknowledged",
    "dispatched",
    "closed",
    "rejected",
    "withdrawn",
)

# How the command centre closes an incident.
OUTCOMES = (
    "patrol_on_site",
    "arrest",
    "no_police_action",
    "referred_to_gendarmerie",
    "duplicate",
    "false_alarm",
)
# Why a command centre rejects a sheet: a code the operator's system can act on (with
# free text beside it; ``other`` needs the text).
REJECT_CAUSES = (
    "outside_territory",  # another service is competent (redirect_to names it)
    "not_police_matter",  # the operator's own business (no offence, no danger)
    "duplicate",  # already reported to the command centre (by phone, another sheet)
    "insufficient_information",  # cannot act on it: amend the sheet with what is missing
    "sent_by_mistake",  # a test, a wrong recipient
    "other",
)
# Statuses the command centre still has to deal with.
OPEN_STATUSES = ("received", "queued", "acknowledged", "dispatched")

# GPO problems (shared/domain/gpo-problems.md): the lifecycle's states, in order,
# those a new problem may start in, and the statuses of an action.
PROBLEM_STATES = (
    "reported",
    "qualified",
    "analysis",
    "action_plan",
    "in_progress",
    "assessment",
    "resolved",
    "improved",
    "not_resolved",
    "closed",
    "watch",
    "abandoned",
    "out_of_scope",
)
INITIAL_PROBLEM_STATES = ("reported", "qualified", "analysis")
ACTION_STATUSES = ("planned", "in_progress", "done", "cancelled")

# The direct line's directory (intake_service/directory/rules/notices.py gives each
# notice kind its French label; a unit test keeps the two lists the same).
DIRECTORY_ENTITY_KINDS = ("operator", "police_service", "police_station", "gpo", "partner")
NOTICE_KINDS = (
    "urgent_incident",
    "rejection",
    "escalation",
    "rfi",
    "rfi_overdue",
    "cctv_requested",
    "cctv_deadline",
    "appointment",
)
