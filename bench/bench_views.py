"""First use of every typed view (issue 11, defect 7): target under 5 ms each.

Run: ``.venv/bin/python bench/bench_views.py`` (``--runs N``: best of N fresh interpreters per
view, default 3; ``--json`` for the figures as JSON). For each typed view of
:class:`sipfsm.message.views.HeaderViews` (``msg.via``, ``msg.to``, ``msg.cseq`` ...), a fresh
interpreter imports sipfsm, parses :data:`MESSAGE` (a request carrying every header field that a
view reads, lazily and strictly), then times the first access of that one view and the reading
of what it gives (every property of each item and of its URI): the cost a process pays the
first time it meets that header. Each figure is the child's CPU time (``time.process_time``,
robust to other processes on a shared machine), the best of the runs.

Baseline, in the same run and measured the same way: the first header access of the parsers
of the bench extra, sipmessage (``Message.parse(data).via``) and sippy
(``SipRequest(buf=...).getHFBody("via")``).

Exit status: 0 when every view's first use is under the target, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Target of issue 11, defect 7: the first use of any view, in seconds of CPU time.
TARGET = 0.005

#: A request with every header field a typed view reads (RFC 3261 section 20 and the
#: extensions of grammar/), values from the RFCs' examples.
MESSAGE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com>;expires=3600\r\n"
    b"Route: <sip:p1.example.com;lr>\r\n"
    b"Record-Route: <sip:p2.example.com;lr>\r\n"
    b"Reply-To: Bob <sip:bob@biloxi.example.com>\r\n"
    b"Expires: 7200\r\n"
    b"Min-Expires: 60\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Subject: lunch\r\n"
    b"Organization: Boxes by Bob\r\n"
    b"Priority: urgent\r\n"
    b"Server: HomeServer v2 (beta)\r\n"
    b"User-Agent: Softphone Beta1.5 (x)\r\n"
    b"Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
    b"Retry-After: 18000;duration=3600\r\n"
    b"Timestamp: 54.3 1.2\r\n"
    b"Content-Encoding: gzip\r\n"
    b"Content-Language: fr\r\n"
    b"Content-Disposition: session;handling=optional\r\n"
    b"Accept: application/sdp;level=1, application/x-private\r\n"
    b"Accept-Encoding: gzip\r\n"
    b"Accept-Language: da, en-gb;q=0.8, en;q=0.7\r\n"
    b"Require: 100rel\r\n"
    b"Proxy-Require: foo\r\n"
    b"Supported: 100rel, timer\r\n"
    b"Unsupported: foo\r\n"
    b"Allow: INVITE, ACK, OPTIONS, CANCEL, BYE\r\n"
    b"In-Reply-To: 70710@saturn.bell-tel.com, 17320@saturn.bell-tel.com\r\n"
    b'Authorization: Digest username="Alice", realm="atlanta.com",'
    b' nonce="84a4cc6f3082121f32b42a2187831a9e", response="7587245234b3434cc3412213e5f113a5432"\r\n'
    b'Proxy-Authorization: Digest username="Alice", realm="atlanta.com",'
    b' nonce="c60f3082ee1212b402a21831ae", response="245f23415f11432b3434341c022"\r\n'
    b'WWW-Authenticate: Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth",'
    b' nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5\r\n'
    b'Proxy-Authenticate: Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth",'
    b' nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5\r\n'
    b'Authentication-Info: nextnonce="47364c23432d2e131a5fb210812c"\r\n'
    b"Warning: 307 isi.edu \"Session parameter 'foo' not understood\"\r\n"
    b"Alert-Info: <http://www.example.com/sounds/moo.wav>\r\n"
    b"Call-Info: <http://wwww.example.com/alice/photo.jpg>;purpose=icon\r\n"
    b"Error-Info: <sip:not-in-service-recording@atlanta.com>\r\n"
    b"RAck: 776656 1 INVITE\r\n"
    b"RSeq: 988789\r\n"
    b'P-Asserted-Identity: "Cullen Jennings" <sip:fluffy@cisco.com>\r\n'
    b"P-Preferred-Identity: <sip:fluffy@cisco.com>\r\n"
    b'Reason: SIP;cause=200;text="Call completed elsewhere"\r\n'
    b"Refer-To: <sip:carol@chicago.example.com>\r\n"
    b"Session-Expires: 4000;refresher=uac\r\n"
    b"Min-SE: 90\r\n"
    b"Event: presence;id=1\r\n"
    b"Allow-Events: presence, dialog\r\n"
    b"Subscription-State: active;expires=600\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 0\r\n\r\n"
)

#: The child: the cost of the first use of one view, printed as JSON (CPU and wall seconds).
_SIPFSM_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
import sipfsm

def read(value, seen=0):
    # Every item of a list, every public property of an object of sipfsm (its URI too).
    if isinstance(value, (list, tuple)):
        return sum(read(v) for v in value)
    cls = type(value)
    if not cls.__module__.startswith("sipfsm"):
        return 1
    n = 1
    for klass in cls.__mro__:
        for name, attr in vars(klass).items():
            if name.startswith("_"):
                continue
            if isinstance(attr, property) or name in getattr(cls, "__dataclass_fields__", {{}}):
                got = getattr(value, name)
                n += read(got) if name == "uri" else 0
    str(value)
    return n

msg = sipfsm.parse({data!r}, strict={strict})
c0, w0 = time.process_time(), time.perf_counter()
read(getattr(msg, {view!r}))
print(json.dumps([time.process_time() - c0, time.perf_counter() - w0]))
"""

_SIPMESSAGE_CHILD = """
import json, time
from sipmessage import Message
msg = Message.parse({data!r})
c0, w0 = time.process_time(), time.perf_counter()
str(msg.via)
print(json.dumps([time.process_time() - c0, time.perf_counter() - w0]))
"""

_SIPPY_CHILD = """
import json, time
from sippy.SipRequest import SipRequest
msg = SipRequest(buf={text!r})
c0, w0 = time.process_time(), time.perf_counter()
str(msg.getHFBody("via"))
print(json.dumps([time.process_time() - c0, time.perf_counter() - w0]))
"""


def view_names() -> list[str]:
    """The typed views: the properties of ``HeaderViews`` (as ``read_every_view`` reads them)."""
    from sipfsm.message.views import HeaderViews

    return [n for n, v in vars(HeaderViews).items() if isinstance(v, property)]


def _child(code: str, runs: int) -> tuple[float, float] | None:
    """Best CPU and best wall seconds of ``runs`` fresh interpreters running ``code``; None
    when it fails (a parser not installed)."""
    cpu = wall = float("inf")
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            return None
        c, w = json.loads(done.stdout.strip().splitlines()[-1])
        cpu, wall = min(cpu, c), min(wall, w)
    return cpu, wall


def _row(label: str, got: tuple[float, float] | None, target: bool) -> str:
    if got is None:
        return f"  {label:<26} n/a (not installed)"
    cpu, wall = got
    verdict = f"  {'ok' if cpu < TARGET else 'OVER'}" if target else ""
    return f"  {label:<26} {cpu * 1e3:8.2f} ms CPU {wall * 1e3:8.2f} ms wall{verdict}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="fresh interpreters per figure")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    figures: dict[str, dict[str, tuple[float, float] | None]] = {"baseline": {}}
    text = MESSAGE.decode()
    figures["baseline"]["sipmessage .via"] = _child(
        _SIPMESSAGE_CHILD.format(data=MESSAGE), args.runs
    )
    figures["baseline"]["sippy getHFBody('via')"] = _child(
        _SIPPY_CHILD.format(text=text), args.runs
    )
    over = 0
    for strict in (False, True):
        mode = "strict" if strict else "lazy"
        figures[mode] = {}
        for view in view_names():
            code = _SIPFSM_CHILD.format(root=str(ROOT), data=MESSAGE, strict=strict, view=view)
            got = _child(code, args.runs)
            if got is None:
                raise SystemExit(f"reading {view} ({mode}) failed")
            figures[mode][view] = got
            over += got[0] >= TARGET
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        print(f"First use of each view, fresh interpreter, best of {args.runs} (target < 5 ms)")
        print("baseline (first header access of the other parsers):")
        for label, got in figures["baseline"].items():
            print(_row(label, got, False))
        for mode in ("lazy", "strict"):
            print(f"sipfsm, parsed {mode}:")
            for view, got in figures[mode].items():
                print(_row("." + view, got, True))
            worst = max(figures[mode].items(), key=lambda kv: kv[1][0] if kv[1] else 0.0)
            assert worst[1] is not None
            print(f"  slowest ({mode}): .{worst[0]} {worst[1][0] * 1e3:.2f} ms CPU")
        print(f"views at or over 5 ms: {over}")
    return 0 if over == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
