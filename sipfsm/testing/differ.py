"""Differential testing of another SIP parser against sipfsm (RFC 3261 section 25, RFC 4475).

:func:`differential` feeds another parser the RFC 4475 torture messages and messages from
:mod:`~sipfsm.testing.strategies` (valid, tortuous and near-valid ones with one named defect) and
reports every disagreement with sipfsm:

* ``rejects-valid``: sipfsm accepts the message, the other parser raises;
* ``accepts-invalid``: sipfsm rejects it (a syntactic defect), the other parser accepts it;
* ``reads-differently:<field>``: both accept, but the field (from your ``extract`` function)
  differs from what sipfsm reads.

Each category keeps its smallest example: generated examples are minimised by Hypothesis
(:func:`hypothesis.find`), so a report points at the shortest message that shows the problem.

Example::

    from sipfsm.testing.differ import differential

    def extract(msg):                      # your parser's view of the fields to compare
        return {"call_id": msg.call_id, "cseq": msg.cseq_number}

    report = differential(my_parser.parse, extract=extract, name="my-parser")
    print(report.summary())
    assert not report.disagreements
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from sipfsm.errors import ParseError
from sipfsm.message.message import Message, Request, Response
from sipfsm.message.parse import parse
from sipfsm.testing.strategies import malformed_messages, message_bytes

__all__ = ["Disagreement", "Report", "differential", "sipfsm_fields"]

Extract = Callable[[Any], Mapping[str, object]]


@dataclass(frozen=True)
class Disagreement:
    """One message on which the other parser and sipfsm disagree.

    ``category``: ``rejects-valid``, ``accepts-invalid`` or ``reads-differently:<field>``;
    ``source``: ``corpus:<file>`` (RFC 4475), ``generated`` or ``malformed:<defect>``;
    ``data``: the message (minimised for generated ones); ``detail``: what each side said.
    """

    category: str
    source: str
    data: bytes
    detail: str


@dataclass
class Report:
    """What :func:`differential` found: one entry per (category, source kind) at most for
    generated messages, every corpus message that disagrees."""

    parser: str
    checked: int = 0
    disagreements: list[Disagreement] = field(default_factory=list)

    def categories(self) -> dict[str, int]:
        """Category -> number of disagreements."""
        out: dict[str, int] = {}
        for d in self.disagreements:
            out[d.category] = out.get(d.category, 0) + 1
        return dict(sorted(out.items()))

    def corpus_disagreements(self) -> dict[str, str]:
        """RFC 4475 file -> category, for the corpus messages that disagree."""
        return {
            d.source.removeprefix("corpus:"): d.category
            for d in self.disagreements
            if d.source.startswith("corpus:")
        }

    def summary(self) -> str:
        """A Markdown summary: counts per category and the smallest example of each."""
        lines = [f"### {self.parser}", "", f"{self.checked} messages checked.", ""]
        if not self.disagreements:
            return "\n".join([*lines, "No disagreement."])
        lines += ["| category | count | corpus messages |", "|---|---|---|"]
        corpus = self.corpus_disagreements()
        for cat, n in self.categories().items():
            files = ", ".join(sorted(f for f, c in corpus.items() if c == cat)) or "-"
            lines.append(f"| {cat} | {n} | {files} |")
        lines.append("")
        seen: set[str] = set()
        for d in sorted(self.disagreements, key=lambda d: (d.category, len(d.data))):
            if d.category in seen or d.source.startswith("corpus:"):
                continue
            seen.add(d.category)
            lines += [
                f"Smallest generated example of `{d.category}` ({d.source}): {d.detail}",
                "",
                "```",
                d.data.decode("utf-8", "replace").replace("\r\n", "\n"),
                "```",
                "",
            ]
        return "\n".join(lines)

    def to_json(self) -> str:
        """The categories and corpus disagreements as stable JSON (for snapshots)."""
        return json.dumps(
            {
                "parser": self.parser,
                "categories": sorted(self.categories()),
                "corpus": self.corpus_disagreements(),
            },
            indent=1,
            sort_keys=True,
        )


def sipfsm_fields(msg: Message) -> dict[str, object]:
    """The fields sipfsm reads that a typical ``extract`` compares against: method or status,
    Call-ID, CSeq number and method, From/To tags, top Via branch, Max-Forwards."""
    out: dict[str, object] = {}
    if isinstance(msg, Request):
        out["method"] = msg.method
    elif isinstance(msg, Response):
        out["status"] = msg.status
    out["call_id"] = msg.call_id
    if msg.cseq is not None:
        out["cseq_seq"] = msg.cseq.seq
        out["cseq_method"] = msg.cseq.method
    out["from_tag"] = msg.from_.tag if msg.from_ else None
    out["to_tag"] = msg.to.tag if msg.to else None
    out["via_branch"] = msg.via[0].branch if msg.via else None
    out["max_forwards"] = msg.max_forwards
    return out


class _OutOfTime(BaseException):
    """The minimisation budget is spent (a BaseException, so Hypothesis stops at once)."""


def _ours(data: bytes) -> Message | ParseError:
    try:
        return parse(data, strict=True)
    except ParseError as e:
        return e


def _judge(
    data: bytes,
    other: Callable[[bytes], Any],
    extract: Extract | None,
    expect_valid: bool | None = None,
) -> tuple[str, str] | None:
    """(category, detail) of a disagreement on ``data``, or None."""
    ours = _ours(data)
    ok = not isinstance(ours, ParseError) if expect_valid is None else expect_valid
    try:
        theirs = other(data)
        err: BaseException | None = None
    except Exception as e:  # any exception of the other parser counts as a rejection
        theirs, err = None, e
    if ok and err is not None:
        return "rejects-valid", f"other raised {type(err).__name__}: {str(err)[:120]}"
    if not ok and err is None:
        why = ours.code if isinstance(ours, ParseError) else "RFC 4475: invalid"
        return "accepts-invalid", f"sipfsm: {why}"
    if ok and extract is not None and isinstance(ours, Message):
        try:
            mine = sipfsm_fields(ours)
            got = extract(theirs)
        except Exception as e:
            return "reads-differently:extract-failed", f"{type(e).__name__}: {str(e)[:120]}"
        for key in sorted(got):
            if key in mine and _norm(got[key]) != _norm(mine[key]):
                return f"reads-differently:{key}", f"sipfsm {mine[key]!r}, other {got[key]!r}"
    return None


def _norm(v: object) -> object:
    return v.strip() if isinstance(v, str) else v


def _corpus_files(corpus: Path) -> Iterable[tuple[str, bytes, bool]]:
    classes_file = corpus / "classes.json"
    classes: dict[str, Any] = {}
    if classes_file.exists():
        classes = json.loads(classes_file.read_text(encoding="utf-8"))["messages"]
    for path in sorted(corpus.glob("*.dat")):
        cls = classes.get(path.name, {}).get("class")
        valid = None if cls is None else cls != "invalid"
        yield path.name, path.read_bytes(), bool(valid) if valid is not None else True


def differential(
    other_parser: Callable[[bytes], Any],
    *,
    name: str = "other",
    extract: Extract | None = None,
    corpus: Path | str | None = None,
    max_examples: int = 100,
    minimise: bool = True,
    minimise_seconds: float = 30.0,
) -> Report:
    """Run ``other_parser`` (bytes -> anything; raising means "rejected") over the RFC 4475
    corpus in ``corpus`` (a folder of ``*.dat`` with optional ``classes.json``) and over
    ``max_examples`` generated valid and malformed messages; report every disagreement with
    sipfsm (see the module docstring). ``extract`` maps the other parser's result to a dict
    whose keys are compared with :func:`sipfsm_fields`. With ``minimise``, each category found
    among generated messages is re-searched with :func:`hypothesis.find` for its smallest
    example, within ``minimise_seconds`` in all (the smallest example seen so far is kept when
    the budget runs out).
    """
    report = Report(name)
    if corpus is not None:
        for fname, data, valid in _corpus_files(Path(corpus)):
            report.checked += 1
            verdict = _judge(data, other_parser, extract, expect_valid=valid)
            if verdict is not None:
                report.disagreements.append(
                    Disagreement(verdict[0], f"corpus:{fname}", data, verdict[1])
                )
    found: dict[tuple[str, str], bytes] = {}
    details: dict[tuple[str, str], str] = {}
    cfg = settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )

    @cfg
    @given(
        st.one_of(
            message_bytes().map(lambda b: (b, "generated")),
            malformed_messages().map(lambda m: (m.data, f"malformed:{m.defect}")),
        )
    )
    def explore(case: tuple[bytes, str]) -> None:
        data, source = case
        report.checked += 1
        verdict = _judge(data, other_parser, extract)
        if verdict is not None:
            key = (verdict[0], source.split(":")[0])
            if key not in found or len(data) < len(found[key]):
                found[key] = data
                details[key] = f"{verdict[1]} [{source}]"

    explore()

    deadline = time.monotonic() + minimise_seconds

    def shows(category: str, best: list[bytes]) -> Callable[[bytes], bool]:
        def predicate(b: bytes) -> bool:
            if time.monotonic() > deadline:
                raise _OutOfTime
            hit = (_judge(b, other_parser, extract) or ("", ""))[0] == category
            if hit and (not best or len(b) < len(best[0])):
                best[:] = [b]
            return hit

        return predicate

    for (category, kind), data in sorted(found.items()):
        detail = details[(category, kind)]
        if minimise and kind == "generated" and time.monotonic() < deadline:
            best: list[bytes] = []
            try:
                data = find(
                    message_bytes(),
                    shows(category, best),
                    settings=settings(
                        max_examples=min(max_examples, 50),
                        database=None,
                        derandomize=True,
                        deadline=None,
                        suppress_health_check=list(HealthCheck),
                    ),
                )
            except NoSuchExample:
                pass
            except _OutOfTime:
                if best and len(best[0]) < len(data):
                    data = best[0]
            verdict = _judge(data, other_parser, extract)
            if verdict is not None:
                detail = f"{verdict[1]} [minimised]"
        report.disagreements.append(Disagreement(category, kind, data, detail))
    return report
