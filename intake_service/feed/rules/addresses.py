"""Which addresses a webhook may reach: the globally routable ones only (SSRF). Pure.

An IPv6 address can carry an IPv4 one — mapped (``::ffff:a.b.c.d``), NAT64
(``64:ff9b::/96``, ``64:ff9b:1::/48``), 6to4 (``2002::/16``), Teredo (``2001::/32``) —
which a gateway on the way turns back into that IPv4 address: ``64:ff9b::a9fe:a9fe`` is
the cloud's metadata service, 169.254.169.254, although Python calls it global. The
embedded address must be global too.
"""

from __future__ import annotations

import ipaddress

NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for, on the way to its destination."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in network for network in NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def refusal(address: str) -> str | None:
    """Why ``address`` may not be reached (None: it may)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates.extend(embedded_ipv4(ip))
    for candidate in candidates:
        # Only globally routable addresses: this also refuses ranges Python does not
        # call private, such as 100.64.0.0/10 where some clouds serve metadata.
        if not candidate.is_global or candidate.is_multicast:
            shown = f"{ip} ({candidate})" if candidate != ip else str(ip)
            return f"The webhook URL resolves to {shown}, a private or local address: refused."
    return None
