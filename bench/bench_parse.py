"""Benchmark sipfsm's parser against sippy and sipmessage (issue 3).

Run: ``.venv/bin/python bench/bench_parse.py`` (``--quick`` for fewer rounds). Prints:

1. throughput, in messages per second, on 2,000 distinct variants (fresh branch, tags and
   Call-ID) of (a) RFC 3261's F1 INVITE (section 24.2) with a short SDP body, (b) a 200 OK
   with three Via header fields, (c) RFC 4475's wsinv.dat: sipfsm strict and lazy, sippy's
   full parse (every header body parsed) and sipmessage (framing only, and every typed
   header read);
2. linear time: cost per byte of a 64 KiB message against a 1 KiB one, and the slowest of a
   set of adversarial 60 KiB inputs (must stay under 50 ms, parsed or rejected);
3. start-up: a fresh interpreter importing sipfsm and parsing one message.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sipfsm  # noqa: E402
from sipfsm import Limits, ParseError  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "rfc4475"
N = 2000

SDP = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.101\r\n"
    b"t=0 0\r\n"
    b"m=audio 49172 RTP/AVP 0\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
)


def f1_invite(i: int) -> bytes:
    """RFC 3261 section 24.2, message F1, with fresh branch, tag and Call-ID."""
    head = (
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
        f"Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9{i:06d}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl{i}\r\n"
        "To: Bob <sip:bob@biloxi.example.com>\r\n"
        f"Call-ID: {3848276298220188511 + i}@atlanta.example.com\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(SDP)}\r\n"
        "\r\n"
    )
    return head.encode() + SDP


def ok_3via(i: int) -> bytes:
    """A 200 OK to an INVITE that went through two proxies (three Via header fields)."""
    return (
        "SIP/2.0 200 OK\r\n"
        f"Via: SIP/2.0/UDP server10.biloxi.example.com;branch=z9hG4bK4b43c2ff8.{i};"
        "received=192.0.2.3\r\n"
        f"Via: SIP/2.0/UDP bigbox3.site3.atlanta.example.com;branch=z9hG4bK77ef4c2312983.{i};"
        "received=192.0.2.2\r\n"
        f"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds{i};"
        "received=192.0.2.1\r\n"
        f"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf{i}\r\n"
        f"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774{i}\r\n"
        f"Call-ID: a84b4c76e66710{i}@pc33.atlanta.example.com\r\n"
        "CSeq: 314159 INVITE\r\n"
        "Contact: <sip:bob@192.0.2.4>\r\n"
        "Content-Length: 0\r\n"
        "\r\n"
    ).encode()


WSINV = (CORPUS / "wsinv.dat").read_bytes()


def wsinv(i: int) -> bytes:
    """RFC 4475's wsinv.dat with fresh branches, tags and Call-ID (same lengths kept)."""
    s = f"{i:06d}".encode()
    return (
        WSINV.replace(b"390skdjuw", b"390" + s)
        .replace(b"98asjd8", b"9" + s)
        .replace(b"wsinv.ndaksdj", b"wsinv." + s + b"j")
        .replace(b"z9hG4bK9ikj8", b"z9hG4bK" + s[1:])
        .replace(b"z9hG4bK30239", b"z9hG4bK" + s[1:])
    )


def _sippy() -> tuple[Callable[[bytes], object], str] | None:
    try:
        from sippy.SipRequest import SipRequest
        from sippy.SipResponse import SipResponse
    except Exception as exc:  # pragma: no cover - optional
        return (lambda b: None), f"unavailable ({exc})"

    def full(data: bytes) -> object:
        text = data.decode("utf-8", "replace")
        cls = SipResponse if text.startswith("SIP/") else SipRequest
        msg = cls(buf=text)
        for h in msg.headers:
            h.getBody()
        msg.init_body()
        return msg

    return full, "full"


def _sipmessage() -> tuple[Callable[[bytes], object], Callable[[bytes], object]] | None:
    try:
        from sipmessage import Message
        from sipmessage.message import Message as Base
    except Exception:  # pragma: no cover - optional
        return None
    props = [
        name
        for name in dir(Base)
        if isinstance(getattr(Base, name, None), property) and not name.startswith("_")
    ]

    def framing(data: bytes) -> object:
        return Message.parse(data)

    def full(data: bytes) -> object:
        msg = Message.parse(data)
        for p in props:
            with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
                getattr(msg, p)
        return msg

    return framing, full


def rate(fn: Callable[[bytes], object], msgs: list[bytes]) -> tuple[float, int]:
    """Messages per second of CPU time for one pass (process time, so that other processes
    on the machine disturb it less), and how many messages raised."""
    failures = 0
    t0 = time.process_time()
    for m in msgs:
        try:
            fn(m)
        except Exception:
            failures += 1
    dt = max(time.process_time() - t0, 1e-9)
    return len(msgs) / dt, failures


def throughput(rounds: int) -> None:
    sets = {
        "(a) F1 INVITE + SDP": [f1_invite(i) for i in range(N)],
        "(b) 200 OK, 3 Via": [ok_3via(i) for i in range(N)],
        "(c) wsinv.dat": [wsinv(i) for i in range(N)],
    }
    for msgs in sets.values():  # every variant must be valid for sipfsm
        for m in msgs[:50]:
            sipfsm.parse(m, strict=True)
    sippy = _sippy()
    sipmsg = _sipmessage()
    contenders: list[tuple[str, Callable[[bytes], object]]] = [
        ("sipfsm strict", lambda b: sipfsm.parse(b, strict=True)),
        ("sipfsm lazy", lambda b: sipfsm.parse(b)),
    ]
    if sippy is not None:
        contenders.append(("sippy full", sippy[0]))
    if sipmsg is not None:
        contenders.append(("sipmessage framing", sipmsg[0]))
        contenders.append(("sipmessage full", sipmsg[1]))
    # Warm up (compiles the regexes once, as any long-running process would).
    for _name, fn in contenders:
        for msgs in sets.values():
            rate(fn, msgs[:200])
    print(
        f"Throughput, messages per CPU second (best of {rounds} interleaved rounds; "
        f"{N} distinct messages each)"
    )
    names = [n for n, _ in contenders]
    print(f"{'message':<22}" + "".join(f"{n:>20}" for n in names))
    ratios: dict[str, list[float]] = {"strict/sippy": [], "lazy/sipmessage": []}
    for label, msgs in sets.items():
        row = f"{label:<22}"
        got: dict[str, float] = {}
        fails: dict[str, int] = {}
        for _ in range(rounds):
            for name, fn in contenders:
                r, fail = rate(fn, msgs)
                got[name] = max(got.get(name, 0.0), r)
                fails[name] = fail
        for name, _fn in contenders:
            fail = fails[name]
            row += f"{got[name]:>14,.0f}" + (f" ({fail}F)" if fail else "      ")
        print(row)
        if fails.get("sippy full") or fails.get("sipmessage framing"):
            print(f"{'':<22}(a parser that raised on every message is not compared)")
            if fails.get("sippy full"):
                got.pop("sippy full", None)
            if fails.get("sipmessage framing"):
                got.pop("sipmessage framing", None)
        if "sippy full" in got:
            ratios["strict/sippy"].append(got["sipfsm strict"] / got["sippy full"])
        if "sipmessage framing" in got:
            ratios["lazy/sipmessage"].append(got["sipfsm lazy"] / got["sipmessage framing"])
    print("(nF: that many messages raised an exception in that parser)")
    for k, v in ratios.items():
        target = 1.5 if k == "strict/sippy" else 1.2
        print(f"  {k:<18}" + "  ".join(f"{x:5.2f}x" for x in v) + f"   (target >= {target}x)")


def big_message(size: int) -> bytes:
    """A valid request of about ``size`` octets: many headers, long values, deep quoting."""
    lines = [
        "INVITE sip:bob@biloxi.example.com SIP/2.0",
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
        "Max-Forwards: 70",
        "To: Bob <sip:bob@biloxi.example.com>",
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
        "CSeq: 314159 INVITE",
    ]
    i = 0
    total = sum(len(x) + 2 for x in lines)
    while total < size - 600:  # blocks of the same four kinds, so that every size has the mix
        block = [
            f"Via: SIP/2.0/UDP host{i}.example.com;branch=z9hG4bK{i};received=192.0.2.{i % 250}",
            "Subject: " + "lorem ipsum " * 15,
            'Contact: "' + 'x\\"y ' * 20 + f'" <sip:u{i}@h.example.com;transport=tcp>;q=0.5',
            "User-Agent: Agent/1.0 " + "(a " * 8 + "b" + ")" * 8,
        ]
        lines.extend(block)
        total += sum(len(x) + 2 for x in block)
        i += 1
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def adversarial() -> list[tuple[str, bytes]]:
    pre = (
        b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        b"CSeq: 1 INVITE\r\n"
    )
    n = 60 * 1024
    out = []
    for name, hdr, fill in [
        ("spaces in Via", b"Via", b" "),
        ("commas in Via", b"Via", b","),
        ("semicolons in Contact", b"Contact", b";"),
        ("quotes in To", b"To", b'"'),
        ("';a' in Contact", b"Contact", b";a"),
        ("'a.' in Via host", b"Via", b"a."),
        ("'a-' in Route", b"Route", b"<sip:a-"),
        ("'\\\\\"' in From", b"From", b'"\\"'),
        ("'(' in User-Agent", b"User-Agent", b"("),
        ("'a ' in User-Agent", b"User-Agent", b"a "),
        ("'1' in CSeq", b"CSeq", b"1"),
        ("'%4' in Request-URI", b"", b"%4"),
    ]:
        body = (fill * (n // len(fill)))[:n]
        if hdr:
            msg = pre + hdr + b": SIP/2.0/UDP " + body + b"!\r\nContent-Length: 0\r\n\r\n"
        else:
            msg = b"INVITE sip:" + body + b"@h SIP/2.0\r\nContent-Length: 0\r\n\r\n"
        out.append((name, msg))
    return out


def linear() -> None:
    big = Limits(max_message_size=1 << 20, max_header_line=1 << 17, max_headers=100000)
    print("\nLinear time (strict parse; per-byte cost, microseconds per KiB)")
    costs = {}
    for size in (1024, 64 * 1024):
        msg = big_message(size)
        sipfsm.parse(msg, strict=True, limits=big)
        reps = max(3, 2_000_000 // len(msg))
        t0 = time.perf_counter()
        for _ in range(reps):
            sipfsm.parse(msg, strict=True, limits=big)
        dt = (time.perf_counter() - t0) / reps
        costs[size] = dt / len(msg)
        per_kib = costs[size] * 1024e6
        print(f"  {len(msg):>6} octets: {dt * 1e3:8.3f} ms/message, {per_kib:7.1f} us/KiB")
    ratio = costs[64 * 1024] / costs[1024]
    print(f"  64 KiB / 1 KiB per-byte cost: {ratio:.2f}x (target <= 2x)")
    print("\nAdversarial 60 KiB inputs (strict, default limits and raised limits; target < 50 ms)")
    worst = 0.0
    for name, msg in adversarial():
        for label, lim in (("default", None), ("raised", big)):
            t0 = time.perf_counter()
            try:
                sipfsm.parse(msg, strict=True, limits=lim)
                outcome = "parsed"
            except ParseError as exc:
                outcome = exc.code
            dt = time.perf_counter() - t0
            worst = max(worst, dt)
            print(f"  {name:<24} {label:<8} {dt * 1e3:8.2f} ms  {outcome}")
    print(f"  slowest: {worst * 1e3:.2f} ms (target < 50 ms)")


def startup() -> None:
    print("\nStart-up: fresh interpreter, import sipfsm, parse one message (best of 5)")
    for mode in ("lazy", "strict"):
        code = (
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); import sipfsm; "
            f"sipfsm.parse({f1_invite(0)!r}, strict={mode == 'strict'})"
        )
        base = min(_wall([sys.executable, "-c", "pass"]) for _ in range(5))
        full = min(_wall([sys.executable, "-c", code]) for _ in range(5))
        print(
            f"  {mode:<7}: {full * 1e3:7.1f} ms total "
            f"({(full - base) * 1e3:.1f} ms beyond a bare interpreter; target <= 300 ms)"
        )


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one round instead of five")
    args = ap.parse_args()
    throughput(1 if args.quick else 5)
    linear()
    startup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
