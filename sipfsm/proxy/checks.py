"""The checks of a proxy's request processing (RFC 3261 16.3, 16.5), one per state of
``models/proxy_request.toml``: each looks at the request and returns the model's next event.

What is wrong with a request for a proxy is :func:`sipfsm.message.validate.validate`'s (role
``proxy``); each check here picks the findings of its own step, so the order of the steps and
what their outcomes do stay the model's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from sipfsm.message.message import Request
from sipfsm.message.uri import URI
from sipfsm.message.validate import Finding, validate
from sipfsm.proxy.forward import is_loop
from sipfsm.proxy.location import LocationService, canonical_aor

#: 16.3 item 1: the findings that make a request unreasonable to forward (400).
SYNTAX = frozenset({"missing-mandatory-header", "multiple-values", "multiple-content-length"})


class ProxyConfig(Protocol):
    """What a check reads of the proxy."""

    host: str
    domains: frozenset[str]
    supported: frozenset[str]
    location: LocationService


#: The findings of the last requests checked, by their bytes and the options supported: the
#: steps of one request share one validate() (a small cache, the oldest dropped first).
_SEEN: dict[tuple[bytes, frozenset[str]], list[Finding]] = {}
_SEEN_MAX = 16


def findings(req: Request, proxy: ProxyConfig) -> list[Finding]:
    """validate()'s findings for a proxy (16.3 items 1-3, 5), once per request and options."""
    key = (req.raw, proxy.supported)
    found = _SEEN.get(key)
    if found is None:
        found = _SEEN[key] = validate(req, "proxy", supported=proxy.supported)
        if len(_SEEN) > _SEEN_MAX:
            del _SEEN[next(iter(_SEEN))]
    return found


def _has(req: Request, proxy: ProxyConfig, codes: Iterable[str]) -> bool:
    wanted = set(codes)
    return any(f.code in wanted for f in findings(req, proxy))


def check_syntax(req: Request, proxy: ProxyConfig, now: float) -> str:
    """16.3 item 1: reasonable syntax."""
    return "px_bad_syntax" if _has(req, proxy, SYNTAX) else "px_ok"


def check_scheme(req: Request, proxy: ProxyConfig, now: float) -> str:
    """16.3 item 2: the Request-URI scheme is understood."""
    return "px_bad_scheme" if _has(req, proxy, {"unsupported-uri-scheme"}) else "px_ok"


def check_max_forwards(req: Request, proxy: ProxyConfig, now: float) -> str:
    """16.3 item 3: Max-Forwards is not 0."""
    return "px_too_many_hops" if _has(req, proxy, {"too-many-hops"}) else "px_ok"


def check_loop(req: Request, proxy: ProxyConfig, now: float) -> str:
    """16.3 item 4: the request has not looped back to this proxy."""
    return "px_loop" if is_loop(req, proxy.host) else "px_ok"


def check_proxy_require(req: Request, proxy: ProxyConfig, now: float) -> str:
    """16.3 item 5: every Proxy-Require option-tag is supported."""
    return "px_bad_extension" if _has(req, proxy, {"bad-extension"}) else "px_ok"


def target_set(req: Request, proxy: ProxyConfig, now: float) -> list[URI]:
    """16.5: a Request-URI of a domain this proxy is not responsible for is the only target;
    for one of its domains, the location service's contacts, highest q first."""
    uri = URI.parse(str(req.uri))
    if not uri.is_sip or (uri.host or "").lower() not in proxy.domains:
        return [uri]
    return [b.contact for b in proxy.location.bindings(canonical_aor(uri), now)]


def check_targets(req: Request, proxy: ProxyConfig, now: float) -> str:
    """16.5: the target set is not empty."""
    return "px_ok" if target_set(req, proxy, now) else "px_no_targets"


#: The check of each state of ``models/proxy_request.toml``.
CHECKS: dict[str, Callable[[Request, ProxyConfig, float], str]] = {
    "Syntax": check_syntax,
    "Scheme": check_scheme,
    "MaxForwards": check_max_forwards,
    "Loop": check_loop,
    "ProxyRequire": check_proxy_require,
    "Targets": check_targets,
}
