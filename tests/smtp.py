"""A real SMTP server for tests (aiosmtpd), collecting what it receives.

``with running() as server:`` (or a fixture around it): ``server.url`` is the
``smtp://`` URL to give the mailer, ``server.messages`` the parsed emails received,
``stop()`` / ``start()`` take it down and up again on the same port.
"""

from __future__ import annotations

import contextlib
import email
import email.message
import email.policy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Collector:
    """The aiosmtpd handler: keeps each message with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        with self.lock:
            self.messages.append(parsed)
            self.envelopes.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = Collector()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(
        self,
        predicate: Callable[[list[email.message.EmailMessage]], bool],
        timeout: float = 10.0,
    ) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages
            if predicate(messages):
                return messages
            time.sleep(0.05)
        raise AssertionError(
            f"the SMTP server got {len(self.messages)} messages, not what was awaited"
        )


@contextlib.contextmanager
def running() -> Iterator[SmtpServer]:
    """A started server on a free port, stopped at the end."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def calendar_part(message: email.message.EmailMessage) -> email.message.EmailMessage | None:
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            assert isinstance(part, email.message.EmailMessage)
            return part
    return None
