"""The private methods of kombu's Redis transport that ``feed tail`` relies on
(``intake_service/feed/tail.py``): a kombu release that changes them fails here, before
a tap queue silently stops receiving. kombu is pinned to its minor release for this."""

from __future__ import annotations

import inspect

import kombu
from kombu.transport import redis
from kombu.transport.virtual.exchange import ExchangeType

EXPECTED = {
    "_queue_bind": ["self", "exchange", "routing_key", "pattern", "queue"],
    "_delete": ["self", "queue", "exchange", "routing_key", "pattern", "args", "kwargs"],
    "get_table": ["self", "exchange"],
    "typeof": ["self", "exchange", "default"],
    "conn_or_acquire": ["self", "client"],
}


def test_the_redis_channel_keeps_the_methods_feed_tail_calls() -> None:
    for name, parameters in EXPECTED.items():
        method = getattr(redis.Channel, name)
        assert list(inspect.signature(method).parameters) == parameters, name


def test_an_exchange_type_still_prepares_a_binding_as_feed_tail_writes_it() -> None:
    assert list(inspect.signature(ExchangeType.prepare_bind).parameters) == [
        "self",
        "queue",
        "exchange",
        "routing_key",
        "arguments",
    ]


def test_kombu_is_the_minor_release_these_checks_were_written_for() -> None:
    assert tuple(int(part) for part in kombu.__version__.split(".")[:2]) == (5, 7)
