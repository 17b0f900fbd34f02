"""pytest harness for real SIP peers on loopback (a plugin: ``pytest_plugins = ["peers"]``).

The peer-launch logic lives in :mod:`peer_harness` (shared with ``bench/`` and, later,
``sipfsm probe``); this module turns it into fixtures:

* ``kamailio`` (per module): Kamailio as stateful proxy + registrar on UDP and TCP;
* ``sipp_uas`` (per test): SIPp's built-in UAS for one call;
* ``sipp_uac`` (per test): a runner ``sipp_uac(target, **kw) -> SippRun``;
* ``baresip`` (per module): baresip auto-answering as ``sip:bob@127.0.0.1:PORT``;
* ``linphone`` (per module): linphone-daemon (belle-sip) auto-answering as
  ``sip:bob@127.0.0.1:PORT``;
* ``register_contact`` (per test): ``register_contact(user, contact, registrar)`` via sipsak;
* ``sip_options`` (per test): sofia-sip's ``sip-options`` client.

A fixture whose Debian package cannot be installed (not root, no apt-get, apt failed) skips its
test with the exact reason. Ports default to peers_config/README.md's (5070, 5080, 5090, 5100) when
free, else any free port; ``SIPFSM_KAMAILIO_PORT`` / ``SIPFSM_SIPP_PORT`` / ``SIPFSM_BARESIP_PORT``
/ ``SIPFSM_LINPHONE_PORT`` override them. Every peer is stopped at teardown, even on failure,
and the log tails of the peers a failed test used are attached to its report.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import peer_harness as _peers
import pytest
from peer_harness import Baresip, Kamailio, Linphone, PeerUnavailable, SippRun, SippUas

__all__ = ["require"]


def require(*packages: str) -> None:
    """Install ``packages`` if needed (once per session); skip the test when impossible."""
    try:
        # Whatever is missing of the whole peer set comes in one apt-get run, on first need.
        _peers.ensure_installed(packages, prefetch=_peers.ALL_PACKAGES)
    except PeerUnavailable as exc:
        pytest.skip(f"peer packages {' '.join(packages)} unavailable: {exc}")


def _port(env: str, preferred: int) -> int:
    value = os.environ.get(env)
    return int(value) if value else _peers.free_port(preferred)


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    """A running Kamailio (``peers_config/kamailio.cfg``), answering OPTIONS on UDP and TCP."""
    require("kamailio")
    peer = Kamailio(tmp_path_factory.mktemp("kamailio"), port=_port("SIPFSM_KAMAILIO_PORT", 5070))
    try:
        peer.start()
    except PeerUnavailable as exc:
        pytest.fail(f"Kamailio did not start: {exc}")
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def sipp_uas(tmp_path: Path) -> Iterator[SippUas]:
    """SIPp's UAS for one call (``-m 1``), bounded by a 30 s ``-timeout``."""
    require("sip-tester")
    peer = SippUas(tmp_path / "sipp_uas", port=_port("SIPFSM_SIPP_PORT", 5080), timeout=30)
    try:
        peer.start()
    except PeerUnavailable as exc:
        pytest.fail(f"SIPp UAS did not start: {exc}")
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def sipp_uac(tmp_path: Path) -> Callable[..., SippRun]:
    """``sipp_uac(target, service="bob", calls=1, timeout=15, ...)``: run SIPp's UAC."""
    require("sip-tester")

    def run(target: str, **kwargs: Any) -> SippRun:
        return _peers.run_sipp_uac(target, tmp_path / "sipp_uac", **kwargs)

    return run


@pytest.fixture(scope="module")
def baresip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baresip]:
    """baresip auto-answering as ``sip:bob@127.0.0.1:PORT``, exiting by itself after 200 s."""
    require("baresip")
    peer = Baresip(
        tmp_path_factory.mktemp("baresip"), port=_port("SIPFSM_BARESIP_PORT", 5090), seconds=200
    )
    try:
        peer.start()
    except PeerUnavailable as exc:
        pytest.fail(f"baresip did not start: {exc}")
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="module")
def linphone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Linphone]:
    """linphone-daemon auto-answering as ``sip:bob@127.0.0.1:PORT``, killed after 240 s."""
    require("linphone-cli")
    peer = Linphone(
        tmp_path_factory.mktemp("linphone"),
        port=_port("SIPFSM_LINPHONE_PORT", 5100),
        rtp_port=_peers.free_port(17000),
        lifetime=240,
    )
    try:
        peer.start()
    except PeerUnavailable as exc:
        pytest.fail(f"linphone-daemon did not start: {exc}")
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def register_contact() -> Callable[..., str]:
    """``register_contact(user, contact, (host, port), expires=3600)`` with sipsak."""
    require("sipsak")
    return _peers.register_contact


@pytest.fixture
def sip_options() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``sip_options(uri, bind_port)``: sofia-sip's ``sip-options`` (exit 0 on a 2xx), 15 s max."""
    require("sofia-sip-bin")

    def run(uri: str, bind_port: int | None = None) -> subprocess.CompletedProcess[str]:
        port = bind_port or _peers.free_port()
        return subprocess.run(
            ["sip-options", f"--bind=sip:{_peers.LOOPBACK}:{port}", uri],
            capture_output=True, text=True, timeout=15, check=False,
        )  # fmt: skip

    return run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the log tails of the peers a failed test used to its report."""
    report = yield
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            tail = getattr(value, "log_tail", None)
            if callable(tail):
                report.sections.append((f"peer log: {name}", str(tail())))
    return report
