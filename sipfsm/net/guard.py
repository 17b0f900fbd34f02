"""The loopback guard: sipfsm sends to loopback only, unless remote targets were allowed.

Probing a SIP implementation sends it unusual traffic, so :func:`check_target` fails closed:
a name is accepted only when every address it resolves to is loopback (127.0.0.0/8, ``::1``).
"""

from __future__ import annotations

import ipaddress
import socket

from sipfsm.errors import SipfsmError

__all__ = ["TargetRefused", "check_target"]


class TargetRefused(SipfsmError):
    """A target address is not loopback and remote targets were not allowed."""


def _is_loopback(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # 127.0.0.0/8 and ::1 (RFC 1122 3.2.1.3, RFC 4291 2.5.3); nothing else, not even 0.0.0.0.
    return ip.is_loopback


def check_target(host: str, allow_remote: bool = False) -> str:
    """Check that ``host`` may be sent to; return it as a numeric address.

    Only loopback (127.0.0.0/8, ``::1``) is allowed unless ``allow_remote``. A name is resolved
    and accepted only when *every* address it resolves to is loopback, so a name cannot smuggle
    traffic off the machine. Raises :class:`TargetRefused` otherwise.
    """
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):  # IPv6reference of RFC 3261 section 25.1
        host = host[1:-1]
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        numeric = True
    except ValueError:
        numeric = False
    if not numeric:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)
        except OSError as exc:
            raise TargetRefused(f"cannot resolve {host!r}: {exc}") from exc
        addrs = sorted({str(info[4][0]) for info in infos})
        if not addrs:
            raise TargetRefused(f"{host!r} resolves to no address")
        if not allow_remote and not all(_is_loopback(a) for a in addrs):
            raise TargetRefused(
                f"{host!r} resolves to {', '.join(addrs)}: not loopback only "
                "(pass allow_remote / --allow-remote to probe other hosts)"
            )
        return addrs[0]
    if not allow_remote and not _is_loopback(host):
        raise TargetRefused(
            f"{host} is not a loopback address (127.0.0.0/8 or ::1); "
            "pass allow_remote / --allow-remote to probe other hosts"
        )
    return host
