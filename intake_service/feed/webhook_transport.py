"""One webhook POST: to the address that was checked, within a total deadline.

- **Pinned**: the connection goes to an address ``check_target`` resolved and checked,
  never to a second resolution of the name (DNS rebinding); the name is still the
  ``Host`` and, over TLS, the certificate's name (SNI and verification).
- **A total deadline**: a receiver trickling its answer a byte at a time cannot hold a
  send past it (each read's timeout would restart at each byte); a timer closes the
  socket at the deadline, so a send never outlives the delivery's lease.
- **Coarse errors**: the operator sees what went wrong in words of its own trade
  ("refused the connection", "no complete answer in 10 s"), never the raw socket error,
  which would make the webhook a port scanner of the network behind it.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


class DeliveryFailed(RuntimeError):
    """The POST got no HTTP answer; ``str()`` is what the operator is shown."""


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    addresses: Sequence[str],
    deadline_seconds: float,
) -> int:
    """POST ``body`` to ``url`` at one of ``addresses``; the answer's status code."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()

    def left() -> float:
        return deadline_seconds - (time.monotonic() - started)

    raw = _connect(addresses, port, left)
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        with contextlib.suppress(OSError):  # closed already: the send has finished
            raw.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(left(), 0.0), cut)
    timer.daemon = True
    timer.start()
    try:
        raw.settimeout(max(left(), 0.01))
        sock: socket.socket = raw
        if https:
            sock = ssl.create_default_context().wrap_socket(raw, server_hostname=host)
        connection = http.client.HTTPConnection(host, port, timeout=max(left(), 0.01))
        connection.sock = sock
        netloc_host = parts.netloc.rpartition("@")[2]
        connection.request("POST", path, body=body, headers={**headers, "Host": netloc_host})
        response = connection.getresponse()
        status = int(response.status)
        response.close()
        return status
    except ssl.SSLError as exc:
        log.info("webhook to %s: TLS failed (%s)", host, type(exc).__name__)
        raise DeliveryFailed(
            "The TLS handshake failed (certificate not valid for this name?)."
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise DeliveryFailed(
                f"Timed out: no complete answer within {deadline_seconds:g} s."
            ) from None
        log.info("webhook to %s: no HTTP answer (%s)", host, type(exc).__name__)
        raise DeliveryFailed("The endpoint closed the connection without an HTTP answer.") from None
    finally:
        timer.cancel()
        raw.close()


def _connect(addresses: Sequence[str], port: int, left: Callable[[], float]) -> socket.socket:
    for address in addresses:
        remaining = left()
        if remaining <= 0:
            break
        try:
            return socket.create_connection((address, port), timeout=remaining)
        except TimeoutError:
            continue
        except OSError as exc:
            log.info("webhook: connection to %s:%s failed (%s)", address, port, type(exc).__name__)
            continue
    raise DeliveryFailed("The endpoint refused the connection or could not be reached.")
