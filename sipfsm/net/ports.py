"""Free loopback ports for UDP and TCP together (the probe's listeners, the reference UA).

Only sockets bound to ``host`` (loopback by default) are touched; nothing is sent.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from sipfsm.net.process import PeerUnavailable

LOOPBACK = "127.0.0.1"


def port_bound(port: int, proto: Literal["udp", "tcp"], host: str = LOOPBACK) -> bool:
    """Whether some socket is bound to ``host:port`` (from /proc/net, without binding it)."""
    want = f"{socket.htonl(int.from_bytes(socket.inet_aton(host), 'big')):08X}:{port:04X}"
    any_ = f"00000000:{port:04X}"
    try:
        text = Path(f"/proc/net/{proto}").read_text()
    except OSError:
        return not _bindable(port, proto, host)
    for line in text.splitlines()[1:]:
        cols = line.split()
        # TCP: only listening sockets (state 0A); UDP: any bound socket.
        if len(cols) > 3 and cols[1] in (want, any_) and (proto == "udp" or cols[3] == "0A"):
            return True
    return False


def _bindable(port: int, proto: Literal["udp", "tcp"], host: str) -> bool:
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(preferred: int | None = None, host: str = LOOPBACK) -> int:
    """A port free for both UDP and TCP on ``host``: ``preferred`` if it is, else any."""
    if preferred and _bindable(preferred, "udp", host) and _bindable(preferred, "tcp", host):
        return preferred
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if _bindable(port, "tcp", host):
            return port
    raise PeerUnavailable("no free port pair found on loopback")
