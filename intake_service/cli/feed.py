"""``intake-service feed``: read a service's feed from the terminal."""

from __future__ import annotations

import dataclasses
import getpass
import signal
from typing import Any

import click

from intake_service.cli.base import fail, main, read_config, transaction
from intake_service.platform.db import Database


@main.group("feed")
def feed_group() -> None:
    """The command-centre feed on the broker."""


@feed_group.command("tail")
@click.argument("service_code")
@click.option("--ack", is_flag=True, help="Consume from the feed queue (removes the messages).")
@click.option("--count", type=int, default=0, help="Stop after this many messages (0: never).")
def feed_tail(service_code: str, ack: bool, count: int) -> None:
    """Print a service's feed live, one line per message.

    Without --ack, a private tap queue sees new messages and the feed keeps its
    own (on the embedded broker, the events relayed to the feed are read from the
    outbox); with --ack, messages are taken from feed.SERVICE_CODE and acknowledged.
    """
    from intake_service.feed import tail

    config = read_config()
    mode = "consume" if ack else ("outbox" if config.embedded_broker else "tap")
    # Who read a command centre's feed, and when, is in the audit log like any other read
    # of incidents: no audit, no tail (the database must be reachable).
    _audit_tail(service_code, mode, "feed.tail.start")
    shown = 0
    # A closed terminal (SIGHUP) or a stop (SIGTERM) ends the run as Ctrl-C does, so
    # the tap queue is unbound on the way out.
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _interrupt)
    on_ready = lambda queue: click.echo(f"listening on {queue}", err=True)  # noqa: E731
    try:
        if config.embedded_broker and not ack:
            lines = tail.follow_outbox(
                Database.from_config(config), service_code, count=count, on_ready=on_ready
            )
        else:
            lines = tail.tail(
                config.broker_url,
                service_code,
                consume=ack,
                count=count,
                on_ready=on_ready,
                namespace=config.broker_namespace,
            )
        for line in lines:
            click.echo(line)
            shown += 1
    except KeyboardInterrupt:
        pass
    except tail.BrokerUnavailable as exc:
        fail(f"cannot reach the broker ({exc}): check BROKER_URL and that the broker runs.")
    finally:
        _audit_tail(service_code, mode, "feed.tail.end", messages=shown)


def _audit_tail(service_code: str, mode: str, action: str, **detail: int) -> None:
    from intake_service.access import audit
    from intake_service.platform.clock import utc_now

    with transaction() as session:
        audit.record(
            session,
            dataclasses.replace(audit.COMMAND_LINE, actor=f"command line ({getpass.getuser()})"),
            action,
            "feed",
            service_code,
            now=utc_now(),
            detail={"mode": mode, **detail},
        )


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt
