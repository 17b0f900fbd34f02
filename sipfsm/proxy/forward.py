"""The message operations of a stateful proxy (RFC 3261 16.6, 16.7): the forwarded copy, the
branch of 16.6 item 8 (with 16.3 item 4's loop check), the top Via removed from a response
(16.7 item 3) and the best final response (16.7 item 6).

The rules of when each is done are the models' (``models/proxy_*.toml``); here is only what
each does to a message. Every result is re-parsed strictly (``evolve``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sipfsm.message.build import build_response
from sipfsm.message.constants import MAGIC_COOKIE, SIP_VERSION
from sipfsm.message.message import Request, Response
from sipfsm.message.serialize import header_items
from sipfsm.message.uri import URI

#: 16.6 item 3: a copy without Max-Forwards gets one, which SHOULD be 70.
DEFAULT_MAX_FORWARDS = 70
#: 16.7 item 6: in the 4xx class, prefer responses that help the request be resubmitted.
RESUBMISSION_HINTS = frozenset({401, 407, 415, 420, 484})


def loop_key(req: Request, sent_by: str) -> str:
    """The request-dependent part of the branch (16.6 item 8): a hash over the fields a loop
    leaves unchanged: To tag, From tag, Call-ID, CSeq number, Request-URI as received,
    Proxy-Require and Proxy-Authorization (16.3 item 4 compares it), and this proxy's sent-by
    (so that two proxies never make one branch: 8.1.1.7, unique across space and time).

    Decision: 16.6 item 8 also lists the topmost Via, but a request that comes back through
    another hop has that hop's Via on top, so with it a loop could never match; it is left out.
    """
    parts = [
        sent_by.lower(),
        req.to.tag if req.to and req.to.tag else "",
        req.from_.tag if req.from_ and req.from_.tag else "",
        req.call_id or "",
        str(req.cseq.seq) if req.cseq else "",
        str(req.uri),
        ",".join(req.get_all("Proxy-Require")),
        ",".join(req.get_all("Proxy-Authorization")),
    ]
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]


def branch_for(req: Request, sent_by: str, index: int) -> str:
    """The branch of the copy sent to target ``index`` (16.6 item 8): the magic cookie, the
    loop key, and the target's number (unique per fork)."""
    return f"{MAGIC_COOKIE}{loop_key(req, sent_by)}.{index}"


def is_loop(req: Request, sent_by: str) -> bool:
    """16.3 item 4: a Via with this proxy's sent-by whose branch carries the loop key the proxy
    computes for this request now: the request has looped (a spiral changes the key)."""
    key = loop_key(req, sent_by)
    for via in req.via:
        branch = via.branch or ""
        ours = via.host.lower() == sent_by.lower() and branch.startswith(MAGIC_COOKIE)
        if ours and branch[len(MAGIC_COOKIE) :].split(".")[0] == key:
            return True
    return False


def forwarded_copy(
    req: Request,
    target: URI,
    *,
    sent_by: str,
    transport: str,
    branch: str,
    record_route: bool,
) -> Request:
    """The copy of ``req`` for ``target`` (16.6 items 1-4, 8, 9): Request-URI the target,
    Max-Forwards one less (or one of 70 added), a Record-Route with this proxy's URI and ``lr``
    first when configured, and a new top Via with ``branch`` (item 8: :func:`branch_for`).
    Content-Length follows."""
    via = f"{SIP_VERSION}/{transport.upper()} {sent_by};branch={branch}"
    pairs: list[tuple[str, str]] = [("Via", via)]
    seen_mf = placed_rr = False
    for h in req.headers:
        name = h.canonical
        if name == "Max-Forwards":
            seen_mf = True
            pairs.append((name, str(max(int(h.value) - 1, 0))))
            continue
        if name == "Record-Route" and record_route and not placed_rr:
            pairs.append(("Record-Route", f"<sip:{sent_by};lr>"))
            placed_rr = True
        pairs.append((name, h.value))
    if not seen_mf:
        pairs.insert(1, ("Max-Forwards", str(DEFAULT_MAX_FORWARDS)))
    if record_route and not placed_rr:
        pairs.insert(1, ("Record-Route", f"<sip:{sent_by};lr>"))
    return req.evolve(uri=str(target), headers=pairs)


def without_top_via(resp: Response) -> Response | None:
    """16.7 item 3: the response without its topmost Via value; ``None`` when none is left
    (the response was for this element)."""
    pairs: list[tuple[str, str]] = []
    removed = False
    for h in resp.headers:
        if h.canonical == "Via" and not removed:
            removed = True
            rest = header_items(h)[1:]
            if rest:
                pairs.append(("Via", ", ".join(rest)))
            continue
        pairs.append((h.canonical, h.value))
    if not any(n == "Via" for n, _ in pairs):
        return None
    return resp.evolve(headers=pairs)


def best_response(stored: Sequence[Response], request: Request, tag: str) -> Response:
    """16.7 item 6: a 6xx if any, else one of the lowest class (a 4xx that helps resubmission
    first, else the first received); none stored: 408 (a timeout, 16.7). A 503 chosen becomes
    a 500 ("the proxy MUST generate a 500 (Server Internal Error) response"). ``tag`` is the To
    tag of a response the proxy generates."""
    if not stored:
        return build_response(request, 408, to_tag=tag)
    sixes = [r for r in stored if r.status >= 600]
    pool = sixes or [r for r in stored if r.status // 100 == min(s.status // 100 for s in stored)]
    hinted = [r for r in pool if r.status in RESUBMISSION_HINTS]
    chosen = (hinted or pool)[0]
    if chosen.status == 503:
        return build_response(request, 500, to_tag=tag)
    return chosen


def _names_proxy(uri: URI, host: str) -> bool:
    return (uri.host or "").lower() == host.lower()


def preprocessed(req: Request, host: str) -> Request:
    """16.4: a Request-URI this proxy put in a Record-Route (a strict router upstream) is
    replaced by the last Route value, which is removed; then a first Route value naming this
    proxy is removed."""
    routes = [str(r.uri) for r in req.route]
    uri = URI.parse(str(req.uri))
    new_uri: str | None = None
    if routes and _names_proxy(uri, host) and uri.lr:
        new_uri, routes = routes[-1], routes[:-1]
    if routes and _names_proxy(URI.parse(routes[0]), host):
        routes = routes[1:]
    if new_uri is None and len(routes) == len(req.route):
        return req
    pairs = [(h.canonical, h.value) for h in req.headers if h.canonical != "Route"]
    at = next((i for i, (n, _) in enumerate(pairs) if n not in ("Via", "Max-Forwards")), 0)
    pairs[at:at] = [("Route", f"<{r}>") for r in routes]
    return req.evolve(uri=new_uri, headers=pairs)
