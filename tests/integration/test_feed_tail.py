"""``intake-service feed tail``: a live line per message; the feed keeps them unless --ack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from intake_service.messaging import FeedPublisher, connect, feed_queue
from tests.brokers import broker_url, fresh_service_code

CLI = str(Path(sys.executable).with_name("intake-service"))
DOC_ENVELOPE = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "feed.md")
    .read_text()
    .split("```json\n")[1]
    .split("```")[0]
)


def env_for(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": str(Path(sys.executable).parent),
        "DATABASE_URL": "postgresql://127.0.0.1:1/unused",
        "BROKER_URL": url,
        "SECRET_KEY": "test",
        "INSTANCE_PATH": str(tmp_path),
    }


@pytest.mark.parametrize("broker_name", ["redis", "rabbitmq"])
@pytest.mark.parametrize("ack", [False, True])
def test_feed_tail_prints_one_line_per_message(broker_name: str, ack: bool, tmp_path: Path) -> None:
    url = broker_url(broker_name)
    service = fresh_service_code()
    connection = connect(url)
    publisher = FeedPublisher(connection)
    publisher.publish({**DOC_ENVELOPE, "id": "warm-up"}, service_code=service, priority="P4")
    feed_queue(service)(connection.default_channel).purge()
    args = [CLI, "feed", "tail", service, "--count", "2", *(["--ack"] if ack else [])]
    tail = subprocess.Popen(
        args, env=env_for(url, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # The tap queue must be bound before the messages are published: wait for it.
        assert tail.stderr is not None
        assert tail.stderr.readline().startswith("listening on ")
        for priority in ("P3", "P1"):
            publisher.publish(DOC_ENVELOPE, service_code=service, priority=priority)
        out, _ = tail.communicate(timeout=30)
        lines = out.strip().splitlines()
        assert len(lines) == 2
        incident_id = DOC_ENVELOPE["payload"]["incident"]["id"]
        assert all(incident_id in line and "incident.submitted" in line for line in lines)
        assert {line.split()[-1] for line in lines} == {
            f"incident.submitted.{service}.P3",
            f"incident.submitted.{service}.P1",
        }
        depth = feed_queue(service)(connection.default_channel).queue_declare(passive=False)
        assert depth.message_count == (0 if ack else 2)
    finally:
        tail.kill()
        feed_queue(service)(connection.default_channel).delete()
        connection.release()


def test_feed_tail_explains_an_unreachable_broker(tmp_path: Path) -> None:
    result = subprocess.run(
        [CLI, "feed", "tail", "ddsp-31", "--count", "1"],
        env=env_for("redis://127.0.0.1:1/0", tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot reach the broker" in result.stderr
