"""The appointments worker's queue receives every event it must apply, whatever the
service and the priority (messaging.INTERNAL_CONSUMERS)."""

from __future__ import annotations

import re

import pytest
from kombu.transport.virtual.exchange import TopicExchange

from intake_service.feed.topology import internal_queue, routing_key

# The topic matching of kombu's virtual transports (Redis), as the broker applies it.
TOPIC = TopicExchange(None)


def delivered(event_type: str, service_code: str | None, priority: str) -> bool:
    key = routing_key(event_type, service_code, priority)
    return any(
        re.match(TOPIC.key_to_pattern(binding.routing_key), key)
        for binding in internal_queue("appointments", "staging").bindings
    )


@pytest.mark.parametrize(
    "event_type", ["incident.submitted", "incident.amended", "incident.withdrawn"]
)
# ``None``: an incident no service covers (``feed.unrouted``).
@pytest.mark.parametrize("service_code", ["ddsp-31", "pp", None])
@pytest.mark.parametrize("priority", ["P1", "P4"])
def test_the_appointments_queue_gets_the_events_it_applies(
    event_type: str, service_code: str | None, priority: str
) -> None:
    assert delivered(event_type, service_code, priority)
