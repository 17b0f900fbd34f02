"""Real SIP peers on loopback: install, start, wait for, and stop them (no pytest here).

One importable place for the peer-launch logic shared by ``tests/peers.py`` (pytest fixtures),
``bench/`` and, later, ``sipfsm probe`` when it starts a peer itself. The peers and their
working configurations live in ``tests/peers_config/`` (copied from the shared, read-only
``../shared/peers``; described in its ``README.md``):

* Kamailio (``kamailio``): stateful proxy and registrar, UDP and TCP;
* SIPp (``sip-tester``): scripted UAS (:class:`SippUas`) and UAC (:func:`run_sipp_uac`);
* baresip (``baresip``): user agent that answers every INVITE;
* Linphone (``linphone-cli``, SIP stack belle-sip): ``linphone-daemon --auto-answer``
  (:class:`Linphone`);
* sipsak (``sipsak``): :func:`register_contact` for the registrar.

Every process is started in its own session, given a hard lifetime (a watchdog kills it), and
stopped by its PID: SIGTERM, then SIGKILL to its process group after a grace period. Every wait
is bounded. Whatever cannot be done (not root, no apt-get, a failed install, a peer that does
not come up) raises :class:`PeerUnavailable` with the reason and the peer's log tail.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sipfsm.net.ports import free_port, port_bound
from sipfsm.net.process import PeerProcess, PeerUnavailable

__all__ = [
    "ALL_PACKAGES",
    "BINARIES",
    "BROWSER_PACKAGES",
    "PEERS_DIR",
    "Baresip",
    "Kamailio",
    "Linphone",
    "PeerProcess",
    "PeerUnavailable",
    "SippRun",
    "SippUas",
    "ensure_installed",
    "free_port",
    "options_request",
    "peer_version",
    "port_bound",
    "register_contact",
    "run_sipp_uac",
    "sip_ping",
]

#: The peer configurations (``kamailio.cfg``, ``baresip/``, ``linphone/``): ``tests/peers_config``.
PEERS_DIR = Path(__file__).resolve().parent / "peers_config"
#: The binaries each Debian package must provide (what "installed" means here).
BINARIES: Mapping[str, tuple[str, ...]] = {
    "sip-tester": ("sipp",),
    "kamailio": ("kamailio", "kamcmd"),
    "baresip": ("baresip",),
    "sofia-sip-bin": ("sip-options",),
    "sipsak": ("sipsak",),
    "linphone-cli": ("linphonec", "linphone-daemon"),
    # Not a SIP peer: the browser of the teaching site's tests (tests/test_site_browser.py).
    "chromium": ("chromium",),
    "chromium-driver": ("chromedriver",),
}
#: The browser's packages, which the SIP peers' one apt-get run does not prefetch.
BROWSER_PACKAGES: tuple[str, ...] = ("chromium", "chromium-driver")
LOOPBACK = "127.0.0.1"
#: Ports of peers_config/README.md (each overridable).
KAMAILIO_PORT = 5070
SIPP_UAS_PORT = 5080
BARESIP_PORT = 5090
LINPHONE_PORT = 5100


# --------------------------------------------------------------------------- versions

#: How each peer binary says its version: the command and the pattern of its output; the
#: Debian package's version (dpkg-query) when that fails.
VERSION_COMMANDS: Mapping[str, tuple[tuple[str, ...], str, str]] = {
    "kamailio": (("kamailio", "-v"), r"version: kamailio (\S+)", "kamailio"),
    "sipp": (("sipp", "-v"), r"SIPp v(\S+?)\.?(?:\s|$)", "sip-tester"),
    "baresip": (("baresip", "-h"), r"baresip v(\S+)", "baresip"),
    # linphone-daemon has no version option; linphonec of the same package has
    "linphone": (("linphonec", "-v"), r"version: (\S+)", "linphone-cli"),
}


def peer_version(program: str) -> str:
    """The version ``program`` (kamailio, sipp, baresip) reports, e.g. ``5.6.3``; else
    ``dpkg VERSION`` of its Debian package; else ``unknown``."""
    argv, pattern, package = VERSION_COMMANDS[program]
    for command in (list(argv), ["dpkg-query", "-W", "-f=${Version}", package]):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        text = done.stdout + done.stderr
        if command[0] == "dpkg-query":
            return f"dpkg {done.stdout.strip()}" if done.returncode == 0 and text else "unknown"
        found = re.search(pattern, text, re.MULTILINE)
        if found:
            return found.group(1)
    return "unknown"


# --------------------------------------------------------------------------- installing

_install_lock = threading.Lock()
_apt_updated = False
_install_failed: dict[str, str] = {}


def _missing(packages: Iterable[str]) -> list[str]:
    return [p for p in packages if not all(shutil.which(b) for b in BINARIES.get(p, (p,)))]


#: Every package the peer harness knows (what ``prefetch`` usually asks for).
ALL_PACKAGES: tuple[str, ...] = tuple(p for p in BINARIES if p not in BROWSER_PACKAGES)


def _apt(argv: list[str], timeout: float) -> str | None:
    """Run one apt-get command; None on success, else the reason it failed."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return f"`{' '.join(argv)}` timed out after {timeout:.0f} s"
    if done.returncode == 0:
        return None
    tail = (done.stdout + done.stderr).strip().splitlines()[-8:]
    return f"`{' '.join(argv)}` exited {done.returncode}: " + " | ".join(tail)


def ensure_installed(
    packages: Sequence[str], *, prefetch: Sequence[str] = (), timeout: float = 600.0
) -> None:
    """Make sure the Debian ``packages`` are installed, installing them with apt-get if not.

    When something must be installed, the missing ``prefetch`` packages go into the same
    ``apt-get install`` (one dpkg run instead of several); if that fails, ``packages`` alone
    are tried. ``apt-get update`` runs at most once per process; a failure is remembered, so
    later calls fail at once with the same reason. Raises :class:`PeerUnavailable` when not
    root, when apt-get is missing, or when the install fails or times out.
    """
    global _apt_updated
    with _install_lock:
        missing = _missing(packages)
        if not missing:
            return
        for pkg in missing:
            if pkg in _install_failed:
                raise PeerUnavailable(_install_failed[pkg])
        hint = f"apt-get install -y --no-install-recommends {' '.join(missing)}"
        if os.geteuid() != 0:
            raise PeerUnavailable(f"{', '.join(missing)} not installed and not root: run `{hint}`")
        if shutil.which("apt-get") is None:
            raise PeerUnavailable(f"{', '.join(missing)} not installed and no apt-get here")
        reason = None
        if not _apt_updated:
            reason = _apt(["apt-get", "update", "-qq"], timeout)
            _apt_updated = reason is None
        if reason is None:
            install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                       "-o", "DPkg::Lock::Timeout=120"]  # fmt: skip
            extra = [p for p in _missing(prefetch) if p not in missing and p not in _install_failed]
            reason = _apt([*install, *missing, *extra], timeout)
            if reason is not None and extra:
                reason = _apt([*install, *missing], timeout)
        if reason is None and _missing(missing):
            reason = f"installed {' '.join(missing)} but {_missing(missing)} lack their binaries"
        if reason is not None:
            for pkg in _missing(missing):
                _install_failed[pkg] = reason
            raise PeerUnavailable(reason)


# --------------------------------------------------------------------------- ports


# --------------------------------------------------------------------------- raw SIP


def options_request(
    target: str, local: tuple[str, int], transport: Literal["udp", "tcp"] = "udp"
) -> tuple[bytes, str]:
    """A minimal OPTIONS (RFC 3261 11.1) to ``target`` (a SIP URI); returns (bytes, Call-ID)."""
    call_id = f"{secrets.token_hex(8)}@sipfsm"
    branch = "z9hG4bK" + secrets.token_hex(8)
    host, port = local
    msg = (
        f"OPTIONS {target} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport.upper()} {host}:{port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:ping@{host}:{port}>;tag={secrets.token_hex(4)}\r\n"
        f"To: <{target}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"Contact: <sip:ping@{host}:{port}>\r\n"
        "Accept: application/sdp\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    return msg.encode(), call_id


def sip_ping(
    host: str,
    port: int,
    transport: Literal["udp", "tcp"] = "udp",
    *,
    user: str | None = None,
    timeout: float = 1.0,
) -> bytes | None:
    """Send one OPTIONS and return the first response's bytes, or None within ``timeout``.

    Blocking sockets (no event loop needed): used to wait until a peer answers SIP.
    """
    target = f"sip:{user + '@' if user else ''}{host}:{port}"
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.settimeout(timeout)
        try:
            s.bind((LOOPBACK, 0))
            if transport == "tcp":
                s.connect((host, port))
            data, call_id = options_request(target, s.getsockname(), transport)
            if transport == "udp":
                s.sendto(data, (host, port))
            else:
                s.sendall(data)
            end = time.monotonic() + timeout
            buf = b""
            while time.monotonic() < end:
                s.settimeout(max(end - time.monotonic(), 0.001))
                chunk = s.recv(65_535)
                if not chunk:
                    return None
                buf = chunk if transport == "udp" else buf + chunk
                if buf.startswith(b"SIP/2.0") and call_id.encode() in buf and b"\r\n\r\n" in buf:
                    return buf
        except OSError:
            return None
    return None


# --------------------------------------------------------------------------- processes


def _run_dir(base: Path, name: str) -> Path:
    path = base / name
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- Kamailio


def kamailio_module_dir() -> str:
    """The folder holding Kamailio's ``tm.so`` for this architecture (``dpkg -L kamailio``)."""
    try:
        listing = subprocess.run(
            ["dpkg", "-L", "kamailio"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        listing = ""
    for line in listing.splitlines():
        if line.endswith("/tm.so"):
            return line[: -len("tm.so")]
    for guess in Path("/usr/lib").glob("*/kamailio/modules/tm.so"):
        return str(guess.parent) + "/"
    raise PeerUnavailable("cannot find Kamailio's tm.so (dpkg -L kamailio lists none)")


@dataclass
class Kamailio:
    """Kamailio as stateful proxy and registrar (``peers_config/kamailio.cfg``), UDP and TCP."""

    run_dir: Path
    host: str = LOOPBACK
    port: int = KAMAILIO_PORT
    lifetime: float = 300.0
    process: PeerProcess | None = None

    @property
    def log_path(self) -> Path:
        """Kamailio's log (``-E``: everything on stderr)."""
        return self.run_dir / "kamailio.log"

    @property
    def ctl(self) -> str:
        """The ``kamcmd -s`` address of its control socket."""
        return f"unix:{self.run_dir}/kamailio_ctl"

    def config(self) -> str:
        """The configuration with @RUNDIR@, ``mpath`` and the port filled in."""
        text = (PEERS_DIR / "kamailio.cfg").read_text()
        text = text.replace("@RUNDIR@", str(self.run_dir))
        text = re.sub(r'^mpath=".*"$', f'mpath="{kamailio_module_dir()}"', text, flags=re.M)
        return text.replace(f"127.0.0.1:{KAMAILIO_PORT}", f"{self.host}:{self.port}")

    def start(self, timeout: float = 15.0) -> Kamailio:
        """Write the configuration, start ``kamailio -DD -E``, wait until an OPTIONS over UDP
        and over TCP gets a response."""
        ensure_installed(["kamailio"])
        self.run_dir.mkdir(parents=True, exist_ok=True)
        cfg = self.run_dir / "kamailio.cfg"
        cfg.write_text(self.config())
        argv = ["kamailio", "-DD", "-E", "-f", str(cfg), "-Y", str(self.run_dir),
                "-P", str(self.run_dir / "kamailio.pid")]  # fmt: skip
        self.process = PeerProcess("kamailio", argv, self.log_path, self.run_dir, self.lifetime)
        self.process.start()
        try:
            for transport in ("udp", "tcp"):
                self.process.wait_until(
                    self._answers(transport),
                    timeout,
                    f"response to OPTIONS over {transport.upper()} on {self.host}:{self.port}",
                )
        except BaseException:
            self.stop()
            raise
        return self

    def _answers(self, transport: Literal["udp", "tcp"]) -> Callable[[], bool]:
        return lambda: sip_ping(self.host, self.port, transport, timeout=0.3) is not None

    def kamcmd(self, *args: str, timeout: float = 10.0) -> str:
        """Run ``kamcmd -s CTL ARGS`` and return its output (raises on failure)."""
        done = subprocess.run(
            ["kamcmd", "-s", self.ctl, *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise PeerUnavailable(f"kamcmd {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def stats(self) -> dict[str, int]:
        """``tm.stats``: Kamailio's transaction counters (current, total, created, ...)."""
        out: dict[str, int] = {}
        for line in self.kamcmd("tm.stats").splitlines():
            key, sep, value = line.strip().partition(":")
            if sep and value.strip().lstrip("-").isdigit():
                out[key.strip()] = int(value.strip())
        return out

    def log_tail(self, lines: int = 60) -> str:
        """The end of its log."""
        return self.process.log_tail(lines) if self.process else ""

    def stop(self) -> None:
        """Stop it by PID and wait."""
        if self.process is not None:
            self.process.stop()


# --------------------------------------------------------------------------- SIPp


@dataclass
class SippUas:
    """SIPp's built-in UAS scenario (INVITE -> 180, 200; ACK; BYE -> 200), ``-m calls``."""

    run_dir: Path
    host: str = LOOPBACK
    port: int = SIPP_UAS_PORT
    calls: int = 1
    timeout: float = 60.0
    extra: Sequence[str] = ()
    process: PeerProcess | None = None

    @property
    def contact(self) -> str:
        """A SIP URI reaching it (for registering it as somebody's contact)."""
        return f"sip:uas@{self.host}:{self.port}"

    def start(self, wait: float = 10.0) -> SippUas:
        """Start it; wait until its UDP port is bound."""
        ensure_installed(["sip-tester"])
        self.run_dir.mkdir(parents=True, exist_ok=True)
        d = self.run_dir
        argv = ["sipp", "-sn", "uas", "-i", self.host, "-p", str(self.port),
                "-m", str(self.calls), "-timeout", f"{int(self.timeout)}s", "-nostdin",
                "-trace_msg", "-message_file", str(d / "sipp_uas_messages.log"),
                "-trace_screen", "-screen_file", str(d / "sipp_uas_screen.log"),
                "-trace_err", "-error_file", str(d / "sipp_uas_errors.log"),
                *self.extra]  # fmt: skip
        log = d / "sipp_uas.log"
        self.process = PeerProcess("sipp-uas", argv, log, d, self.timeout + 10)
        self.process.start()
        try:
            self.process.wait_until(
                lambda: port_bound(self.port, "udp", self.host), wait, f"UDP port {self.port}"
            )
        except BaseException:
            self.stop()
            raise
        return self

    def messages(self) -> str:
        """SIPp's message trace (every message sent and received)."""
        return _read(self.run_dir / "sipp_uas_messages.log")

    def log_tail(self, lines: int = 60) -> str:
        """Its output, the end of its message trace and its errors."""
        parts = [self.process.log_tail(lines) if self.process else ""]
        for name in ("sipp_uas_messages.log", "sipp_uas_errors.log", "sipp_uas_screen.log"):
            text = _read(self.run_dir / name)
            if text:
                parts.append(f"--- {name}\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts)

    def wait(self, timeout: float) -> int:
        """Wait for SIPp to finish its ``-m`` calls; its exit status (0: all succeeded)."""
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        """Stop it by PID and wait."""
        if self.process is not None:
            self.process.stop()


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class SippRun:
    """The result of one SIPp UAC run."""

    returncode: int
    argv: list[str]
    output: str

    @property
    def ok(self) -> bool:
        """SIPp exits 0 when every call succeeded."""
        return self.returncode == 0


def run_sipp_uac(
    target: str,
    run_dir: Path,
    *,
    service: str = "bob",
    host: str = LOOPBACK,
    port: int | None = None,
    calls: int = 1,
    timeout: float = 15.0,
    extra: Sequence[str] = (),
) -> SippRun:
    """Run SIPp's built-in UAC against ``target`` (``host:port``) for ``calls`` calls, bounded
    by ``timeout`` (SIPp's ``-timeout`` and a hard kill a few seconds later)."""
    ensure_installed(["sip-tester"])
    run_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    msgs = run_dir / f"sipp_uac_{port}_messages.log"
    argv = ["sipp", "-sn", "uac", target, "-s", service, "-i", host, "-p", str(port),
            "-m", str(calls), "-timeout", f"{int(timeout)}s", "-nostdin",
            "-trace_msg", "-message_file", str(msgs), *extra]  # fmt: skip
    proc = PeerProcess("sipp-uac", argv, run_dir / f"sipp_uac_{port}.log", run_dir, timeout + 10)
    proc.start()
    try:
        code = proc.wait(timeout + 5)
    except subprocess.TimeoutExpired:
        code = -9
    finally:
        proc.stop()
    out = proc.log()
    trace = _read(msgs)
    return SippRun(code, argv, out + ("\n--- message trace\n" + trace if trace else ""))


# --------------------------------------------------------------------------- baresip


@dataclass
class Baresip:
    """baresip answering every INVITE as ``sip:bob@HOST:PORT`` (``peers_config/baresip/``)."""

    run_dir: Path
    host: str = LOOPBACK
    port: int = BARESIP_PORT
    seconds: int = 120
    process: PeerProcess | None = None

    @property
    def uri(self) -> str:
        """Its address of record."""
        return f"sip:bob@{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> Baresip:
        """Copy the config folder (baresip writes into it), start ``baresip -f DIR -s -t
        SECONDS`` and wait until it answers an OPTIONS."""
        ensure_installed(["baresip"])
        conf = self.run_dir / "baresip"
        shutil.rmtree(conf, ignore_errors=True)
        shutil.copytree(PEERS_DIR / "baresip", conf)
        for name in ("config", "accounts"):
            path = conf / name
            path.chmod(0o644)
            path.write_text(
                path.read_text().replace(f"127.0.0.1:{BARESIP_PORT}", f"{self.host}:{self.port}")
            )
        conf.chmod(0o755)
        argv = ["baresip", "-f", str(conf), "-s", "-t", str(self.seconds)]
        self.process = PeerProcess(
            "baresip", argv, self.run_dir / "baresip.log", self.run_dir, self.seconds + 10
        )
        self.process.start()
        try:
            self.process.wait_until(
                lambda: sip_ping(self.host, self.port, "udp", user="bob", timeout=0.3) is not None,
                timeout,
                f"response to OPTIONS on {self.host}:{self.port}",
            )
        except BaseException:
            self.stop()
            raise
        return self

    def log_tail(self, lines: int = 60) -> str:
        """The end of its log."""
        return self.process.log_tail(lines) if self.process else ""

    def stop(self) -> None:
        """Stop it by PID and wait."""
        if self.process is not None:
            self.process.stop()


# --------------------------------------------------------------------------- Linphone


@dataclass
class Linphone:
    """``linphone-daemon --auto-answer`` as ``sip:bob@HOST:PORT`` over UDP
    (``peers_config/linphone/linphonerc``), its RTP on ``rtp_port`` and up, all on loopback.

    The daemon reads commands from stdin and aborts at its end (``/dev/null``: "basic_string:
    construction from null"), so it listens on a control socket instead (``--pipe NAME``,
    which it makes as ``/tmp/NAME``; removed at :meth:`stop`). It keeps its databases under
    ``$HOME/.local/share/linphone``: ``HOME`` is the run folder, and without that folder it
    opens no listening point at all.
    """

    run_dir: Path
    host: str = LOOPBACK
    port: int = LINPHONE_PORT
    rtp_port: int = 17000
    lifetime: float = 300.0
    process: PeerProcess | None = None
    pipe: str = ""

    @property
    def uri(self) -> str:
        """Its address of record."""
        return f"sip:bob@{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        """liblinphone's log (``--log``: belle-sip's messages, every SIP message in full)."""
        return self.run_dir / "linphone.log"

    def config(self) -> str:
        """The configuration with the SIP and RTP ports and the host filled in."""
        text = (PEERS_DIR / "linphone" / "linphonerc").read_text()
        text = text.replace(f"127.0.0.1:{LINPHONE_PORT}", f"{self.host}:{self.port}")
        text = re.sub(r"^sip_port=.*$", f"sip_port={self.port}", text, flags=re.M)
        text = re.sub(r"^bind_address=.*$", f"bind_address={self.host}", text, flags=re.M)
        for i, kind in enumerate(("audio", "video", "text")):
            port = self.rtp_port + 10 * i
            text = re.sub(rf"^{kind}_rtp_port=.*$", f"{kind}_rtp_port={port}", text, flags=re.M)
        return text

    def start(self, timeout: float = 20.0) -> Linphone:
        """Write the configuration, start ``linphone-daemon --auto-answer`` and wait until it
        answers an OPTIONS."""
        ensure_installed(["linphone-cli"])
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / ".local" / "share" / "linphone").mkdir(parents=True, exist_ok=True)
        cfg = self.run_dir / "linphonerc"
        cfg.write_text(self.config())
        self.pipe = f"sipfsm-linphone-{os.getpid()}-{self.port}"
        argv = ["linphone-daemon", "--pipe", self.pipe, "--config", str(cfg),
                "--auto-answer", "--log", str(self.log_path)]  # fmt: skip
        env = {**os.environ, "HOME": str(self.run_dir)}
        self.process = PeerProcess(
            "linphone", argv, self.run_dir / "linphone-daemon.out", self.run_dir, self.lifetime,
            env=env,
        )  # fmt: skip
        self.process.start()
        try:
            self.process.wait_until(
                lambda: sip_ping(self.host, self.port, "udp", user="bob", timeout=0.3) is not None,
                timeout,
                f"response to OPTIONS on {self.host}:{self.port}",
            )
        except BaseException:
            self.stop()
            raise
        return self

    def log(self) -> str:
        """liblinphone's whole log."""
        return _read(self.log_path)

    def log_tail(self, lines: int = 60) -> str:
        """Its output and the end of liblinphone's log."""
        out = self.process.log_tail(lines) if self.process else ""
        tail = "\n".join(self.log().splitlines()[-lines:])
        return out + ("\n--- linphone.log\n" + tail if tail else "")

    def stop(self) -> None:
        """Stop it by PID and wait; remove its control socket."""
        if self.process is not None:
            self.process.stop()
        if self.pipe:
            with contextlib.suppress(OSError):
                Path("/tmp", self.pipe).unlink()


# --------------------------------------------------------------------------- sipsak


def register_contact(
    user: str,
    contact: str,
    registrar: tuple[str, int],
    *,
    expires: int = 3600,
    timeout: float = 10.0,
) -> str:
    """Register ``contact`` for ``sip:user@registrar`` with sipsak (REGISTER over UDP).

    Returns sipsak's output; raises :class:`PeerUnavailable` when it fails.
    """
    ensure_installed(["sipsak"])
    host, port = registrar
    argv = ["sipsak", "-U", "-C", contact, "-x", str(expires),
            "-s", f"sip:{user}@{host}:{port}", "-i", "-vv"]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PeerUnavailable(f"`{' '.join(argv)}` timed out after {timeout} s") from exc
    out = done.stdout + done.stderr
    if done.returncode != 0:
        raise PeerUnavailable(f"`{' '.join(argv)}` exited {done.returncode}:\n{out}")
    return out
