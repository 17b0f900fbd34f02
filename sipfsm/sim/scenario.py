"""Scenarios as data: ``sipfsm/sim/scenarios/NAME.toml`` (hosts, DNS, links, bindings, steps),
played on a :class:`~sipfsm.sim.network.Network` on the virtual clock.

A scenario file has a ``[scenario]`` table (name, title, section, figure), ``[[hosts]]`` (each
with ``name``, ``label``, ``role`` = ``ua`` | ``proxy`` | ``registrar`` | ``silent`` (answers
nothing), ``address``; a UA:
``user``, ``host``, optional ``domain`` and ``outbound``; a proxy or registrar: ``host``,
``domains``, ``location`` (the name of the location service it shares), a proxy optionally
``record_route``), ``[dns]`` (name -> address), ``[[links]]`` (``hosts = [a, b]``,
``latency``, optional ``loss``, ``duplicate``, ``jitter``: :class:`~sipfsm.sim.network.Link`),
``[[bindings]]`` (a location service's ``aor``, ``contact``, ``expires``), ``[network]``
(optional ``seed`` of the random draws) and ``[[steps]]``
(``at``, or ``on`` and ``delay`` (see :func:`play`); ``host``; ``do`` = ``invite``
(``target``) | ``answer`` (``status``) | ``bye`` | ``cancel`` | ``register`` (``target``: the
registrar's URI, ``expires``: 10.2.1.1)).
Nothing in Python is per scenario.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sipfsm.errors import SipfsmError
from sipfsm.message.message import Response
from sipfsm.message.uri import URI
from sipfsm.proxy.location import Binding, LocationService, canonical_aor
from sipfsm.proxy.proxy import StatefulProxy
from sipfsm.proxy.registrar import Registrar
from sipfsm.sim.network import Datagram, Element, Host, Network
from sipfsm.ua.core import UA

#: How long a scenario may run on the virtual clock before it must be quiet (seconds).
HORIZON = 600.0


class ScenarioError(SipfsmError):
    """A scenario file that cannot be played (unknown name, key or host)."""


@dataclass(frozen=True, slots=True)
class Played:
    """A scenario after it ran: its data, its network (with the log of every datagram)."""

    name: str
    data: dict[str, Any]
    network: Network

    @property
    def log(self) -> list[Datagram]:
        """Every datagram, in the order sent."""
        return self.network.log

    @property
    def columns(self) -> list[tuple[str, str]]:
        """(host name, label) of each host, in the scenario's order."""
        return [(h["name"], h.get("label", h["name"])) for h in self.data["hosts"]]


def scenario_names() -> list[str]:
    """The scenarios shipped with sipfsm."""
    folder = resources.files("sipfsm.sim") / "scenarios"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_scenario(name: str) -> dict[str, Any]:
    """The data of a shipped scenario, or of a scenario file given by path."""
    path = Path(name)
    if path.suffix == ".toml" and path.is_file():
        return tomllib.loads(path.read_text(encoding="utf-8"))
    if name not in scenario_names():
        raise ScenarioError(f"unknown scenario {name!r} (known: {', '.join(scenario_names())})")
    text = (resources.files("sipfsm.sim") / "scenarios" / f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def build(
    data: dict[str, Any],
    *,
    loss: float | None = None,
    seed: int | None = None,
    duplicate: float | None = None,
    jitter: float | None = None,
) -> Network:
    """The network of a scenario: its hosts and their elements, DNS, links, bindings;
    ``loss``, ``duplicate`` and ``jitter`` replace every link's, ``seed`` the scenario's seed
    of the random draws."""
    chosen = seed if seed is not None else int(data.get("network", {}).get("seed", 0))
    net = Network(
        dns={k.lower(): v for k, v in data.get("dns", {}).items()}, random=random.Random(chosen)
    )
    services: dict[str, LocationService] = {}
    for raw in data["hosts"]:
        element = _element(raw, services)
        net.add(Host(raw["name"], raw["address"], element, raw.get("outbound")))
    for link in data.get("links", []):
        a, b = link["hosts"]
        lossy = float(link.get("loss", 0.0)) if loss is None else loss
        twice = float(link.get("duplicate", 0.0)) if duplicate is None else duplicate
        spread = float(link.get("jitter", 0.0)) if jitter is None else jitter
        net.link(a, b, float(link["latency"]), lossy, twice, spread)
    for b in data.get("bindings", []):
        service = services.setdefault(b["location"], LocationService())
        contact = URI.parse(b["contact"])
        binding = Binding(contact, float(b["expires"]), float(b.get("q", 1.0)), "scenario", 0)
        service.put(canonical_aor(URI.parse(b["aor"])), binding, 0.0)
    return net


def _element(raw: dict[str, Any], services: dict[str, LocationService]) -> Element:
    role = raw.get("role")
    if role == "ua":
        return UA(raw["user"], raw["host"], name=raw["name"], domain=raw.get("domain"))
    location = services.setdefault(raw.get("location", raw["name"]), LocationService())
    if role == "proxy":
        return StatefulProxy(
            raw["name"],
            raw["host"],
            raw.get("domains", []),
            location,
            record_route=bool(raw.get("record_route", False)),
        )
    if role == "registrar":
        return Registrar(raw["name"], raw["host"], raw.get("domains", []), location)
    if role == "silent":
        return Silent()
    raise ScenarioError(f"host {raw.get('name')!r}: unknown role {role!r}")


class Silent:
    """A host that answers nothing (RFC 3665 3.10: a UA that does not respond at all)."""

    def receive(self, data: bytes, now: float) -> None:
        """Everything is swallowed."""

    def drain(self) -> list[bytes]:
        """Nothing to send, ever."""
        return []

    def get_timer(self) -> float | None:
        """No timer."""
        return None

    def handle_timer(self, now: float) -> None:
        """No timer."""


def play(
    name: str,
    *,
    loss: float | None = None,
    seed: int | None = None,
    duplicate: float | None = None,
    jitter: float | None = None,
) -> Played:
    """Run scenario ``name`` to its end: every step at its time, then until the network is
    quiet (every transaction and timer done), within :data:`HORIZON` seconds. ``loss`` and
    ``seed`` (and ``duplicate``, ``jitter``) override the links' and the seed (:func:`build`).

    A step has ``at`` (an instant), or ``on`` and ``delay``: it is done ``delay`` seconds after
    its host first receives a request of that method (``on = "INVITE"``: Bob rings when the
    INVITE arrives, however late the losses make it) or a response with that status code
    (``on = "180"``)."""
    data = load_scenario(name)
    net = build(data, loss=loss, seed=seed, duplicate=duplicate, jitter=jitter)
    steps = data.get("steps", [])
    timed = sorted(((float(s["at"]), i, s) for i, s in enumerate(steps) if "at" in s))
    waiting = [s for s in steps if "at" not in s]
    n = len(steps)
    net.collect()
    while timed or net.next_instant() is not None:
        due = timed[0][0] if timed else HORIZON
        at = net.next_instant()
        if at is not None and at <= due:
            for gram in net.advance(at):
                for step in _triggered(waiting, gram):
                    waiting.remove(step)
                    n += 1
                    timed.append((net.now + float(step.get("delay", 0)), n, step))
                    timed.sort()
            continue
        if not timed or due > HORIZON:
            break
        net.run_until(due)
        _do(net, timed.pop(0)[2])
        net.collect()  # what the step sent is on the wire before the next instant is chosen
    return Played(data["scenario"]["name"], data, net)


def _triggered(waiting: list[dict[str, Any]], gram: Datagram) -> list[dict[str, Any]]:
    """The steps waiting for ``gram``: its destination's, for a request of their method or a
    response of their status code."""
    msg = gram.message
    what = str(msg.status) if isinstance(msg, Response) else str(msg.method)
    return [s for s in waiting if s["host"] == gram.dst and str(s.get("on")) == what]


def _do(net: Network, step: dict[str, Any]) -> None:
    """One step of the scenario, done by its host's TU at the network's time."""
    host = net.hosts.get(step["host"])
    if host is None or not isinstance(host.element, UA):
        raise ScenarioError(f"step {step}: {step['host']!r} is not a UA of the scenario")
    ua, now, what = host.element, net.now, step["do"]
    if what == "invite":
        ua.invite(step["target"], now)
    elif what == "answer":
        waiting = [s for s in ua.sessions if s.server_tx is not None and not s.terminated]
        if not waiting:
            raise ScenarioError(
                f"step at {step.get('at', step.get('on'))}: no INVITE waits for {ua.name}'s "
                "answer (a timed step: with losses, steps that wait on messages, `on`, fit)"
            )
        waiting[-1].answer(int(step["status"]), now)
    elif what == "register":  # 10.2: To and From the AOR, Contact the UA's, Expires asked
        expires = (("Expires", str(int(step["expires"]))),) if "expires" in step else ()
        ua.request("REGISTER", step["target"], now, to=ua.aor, headers=expires)
    elif what in ("bye", "cancel"):
        live = [s for s in ua.sessions if not s.terminated]
        if not live:
            raise ScenarioError(f"step {step}: {ua.name} has no session to end")
        live[-1].bye(now) if what == "bye" else live[-1].cancel(now)
    else:
        raise ScenarioError(f"step {step}: unknown action {what!r}")
