"""The report: ``docs/mutation.json`` keeps every shard's results with its date and commit;
``docs/mutation.md`` is rendered from it, the equivalence list
(``tools/mutation/equivalent.toml``) and what mutmut cannot reach (:mod:`tools.mutation.reach`).
The hand-written notes after :data:`NOTES_MARKER` in ``docs/mutation.md`` are kept."""

from __future__ import annotations

import json
import math
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tools.mutation import reach, workspace
from tools.mutation.data import Outcome
from tools.mutation.mutmut_run import SURVIVOR, FileResult, core_files, shard_of
from tools.mutation.table import CORE

RESULTS = workspace.ROOT / "docs" / "mutation.json"
REPORT = workspace.ROOT / "docs" / "mutation.md"
EQUIVALENT = Path(__file__).with_name("equivalent.toml")
NOTES_MARKER = "<!-- notes: everything below is hand-written and kept by scripts/mutation -->"
#: Data statuses that count as a survivor.
DATA_SURVIVOR = frozenset({"survived", "timeout"})
GOAL_CORE = 0.90


def load() -> dict[str, Any]:
    """The recorded results (empty when there are none yet)."""
    if RESULTS.exists():
        return dict(json.loads(RESULTS.read_text()))
    return {"core": {}, "data": {}}


def save(results: dict[str, Any]) -> None:
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def equivalents() -> dict[str, str]:
    """Survivors judged equivalent, by key (a data mutant's key; a code mutant's
    ``path: before -> after``), with the reason."""
    table = tomllib.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    out = {e["key"]: e["reason"] for e in table.get("data", [])}
    out.update(
        {f"{e['path']}: {e['before']} -> {e['after']}": e["reason"] for e in table.get("code", [])}
    )
    return out


def code_key(path: str, before: str, after: str) -> str:
    return f"{path}: {before} -> {after}"


def record_core(
    results: dict[str, Any],
    files: Iterable[FileResult],
    stamp: dict[str, Any],
    rerun: set[str] | None = None,
) -> None:
    """Store one mutmut run's verdicts per file, with the run's date, commit and command.
    ``rerun``: only these (recorded survivors) ran again; the other verdicts stay."""
    for r in files:
        mutants = r.mutants
        old = results["core"].get(r.path)
        if rerun is not None and old is not None:
            mutants = [m for m in r.mutants if m.name in rerun]
            counts = Counter(old["counts"])
            counts.subtract(Counter(s["status"] for s in old["survivors"] if s["name"] in rerun))
            counts.update(m.status for m in mutants)
            kept = [s for s in old["survivors"] if s["name"] not in rerun]
            for m in mutants:
                if m.status == "killed":
                    what = f"`{r.path}:{m.line}` `{m.before}` -> `{m.after}`"
                    _killed_later(results, what, {"detail": "a new test", "date": stamp["date"]})
            survivors = kept + [asdict(m) for m in mutants if m.status in SURVIVOR]
            stamp = {**stamp, "command": f"{old['command']}; then {stamp['command']}"}
            stamp["seconds"] += old["seconds"]
        else:
            counts = Counter(m.status for m in mutants)
            survivors = [asdict(m) for m in mutants if m.status in SURVIVOR]
        results["core"][r.path] = {**stamp, "counts": +counts, "survivors": survivors}


def record_census(results: dict[str, Any], census: dict[str, int]) -> None:
    """How many mutants mutmut makes of each core file (known once it generated them)."""
    results.setdefault("census", {}).update(census)


def record_data(
    results: dict[str, Any], outcomes: Iterable[Outcome], stamp: dict[str, Any]
) -> None:
    """Store data verdicts per file (a file's earlier entry is replaced)."""
    by_file: dict[str, list[dict[str, Any]]] = {}
    for o in outcomes:
        m = o.mutant
        by_file.setdefault(m.path, []).append(
            {
                "key": m.key,
                "operator": m.operator,
                "line": m.line,
                "status": o.status,
                "detail": o.detail,
                "seconds": round(o.seconds, 1),
            }
        )
    for path, mutants in by_file.items():
        old = results["data"].get(path, {}).get("mutants", [])
        now = {m["key"]: m for m in mutants}
        for m in old:
            new = now.get(m["key"])
            if m["status"] in DATA_SURVIVOR and new and new["status"] in ("killed", "rejected"):
                what = f"`{path}:{new['line']}` {m['key'].split(': ', 1)[1]}"
                _killed_later(results, what, {**new, "date": stamp["date"]})
        results["data"][path] = {**stamp, "mutants": mutants}


def _killed_later(results: dict[str, Any], what: str, new: dict[str, Any]) -> None:
    later = results.setdefault("killed_later", [])
    entry = {"what": what, "by": new.get("detail", ""), "date": new.get("date", "")}
    if all(e["what"] != what for e in later):
        later.append(entry)


def _pct(killed: int, total: int) -> str:
    return f"{100 * killed / total:.0f}%" if total else "-"


def _judged(c: Counter[str]) -> int:
    """Data mutants that count: all but the equivalent ones and those not run."""
    return sum(c.values()) - c["not run"] - c["equivalent"]


def _table(head: list[str], rows: list[list[object]]) -> str:
    lines: list[list[object]] = [list(head), ["---"] * len(head), *rows]
    return "\n".join("| " + " | ".join(str(c) for c in line) + " |" for line in lines)


_CORE_HEAD = "module,shard,date,commit,tests,mutants,killed,survived,timeout,no tests,not run"
_DATA_HEAD = "data file,date,commit,cap per operator,mutants,killed,of which refused,survived"


def _core_table(results: dict[str, Any]) -> str:
    rows: list[list[object]] = []
    for path in core_files():
        e = results["core"].get(path)
        if e is None:
            known = results.get("census", {}).get(path, "")
            rows.append([f"`{path}`", shard_of(path), "not run", "", "", known, *[""] * 7])
            continue
        c = Counter(e["counts"])
        total = sum(c.values())
        counts = [c[k] for k in ("killed", "survived", "timeout", "no tests", "not checked")]
        pct = _pct(c["killed"], total - c["not checked"])
        rows.append([f"`{path}`", shard_of(path), e["date"], e["commit"][:10], e["tests"], total])
        rows[-1] += [*counts, pct, f"{e['seconds'] / 60:.0f}"]
    return _table([*_CORE_HEAD.split(","), "killed %", "minutes"], rows)


def _data_tables(results: dict[str, Any]) -> tuple[str, str]:
    rows: list[list[object]] = []
    ops: dict[str, Counter[str]] = {}
    for path, e in sorted(results["data"].items()):
        c = Counter(m["status"] for m in e["mutants"])
        for m in e["mutants"]:
            ops.setdefault(m["operator"], Counter())[m["status"]] += 1
        rows.append([f"`{path}`", e["date"], e["commit"][:10], e["cap"], len(e["mutants"])])
        rows[-1] += [c["killed"] + c["rejected"], c["rejected"], c["survived"]]
        rows[-1] += [c["timeout"], c["equivalent"], c["error"], c["not run"]]
    per_op: list[list[object]] = []
    for op, c in sorted(ops.items()):
        killed, total = c["killed"] + c["rejected"], _judged(c)
        per_op.append([op, sum(c.values()), killed, c["survived"], c["timeout"], c["equivalent"]])
        per_op[-1].append(_pct(killed, total))
    files = _table([*_DATA_HEAD.split(","), "timeout", "equivalent", "error", "not run"], rows)
    head = ["operator", "mutants", "killed", "survived", "timeout", "equivalent", "killed %"]
    return files, _table(head, per_op)


def survivors(results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The survivors' lines (code, data), each with its equivalence reason or OPEN."""
    eq = equivalents()
    code, data = [], []
    for path, e in sorted(results["core"].items()):
        for s in e["survivors"]:
            why = eq.get(code_key(path, s["before"], s["after"]))
            verdict = f"equivalent: {why}" if why else "**OPEN**: no test kills it"
            code.append(
                f"- `{path}:{s['line']}` ({s['status']})"
                f" `{s['before']}` -> `{s['after']}`: {verdict}"
            )
    for path, e in sorted(results["data"].items()):
        for m in e["mutants"]:
            if m["status"] in DATA_SURVIVOR:
                why = eq.get(m["key"])
                verdict = f"equivalent: {why}" if why else "**OPEN**: no test kills it"
                data.append(
                    f"- `{path}:{m['line']}` {m['key'].split(': ', 1)[1]}"
                    f" ({m['status']}): {verdict}"
                )
    return code, data


def open_data_survivors(outcomes: Iterable[Outcome]) -> list[Outcome]:
    """Data survivors not listed as equivalent (quick mode fails on these)."""
    eq = equivalents()
    return [o for o in outcomes if o.status in DATA_SURVIVOR and o.mutant.key not in eq]


def _unreached_table() -> str:
    rows: list[list[object]] = []
    for path in core_files():
        u = reach.unreached(workspace.ROOT, path)
        if u.decorated or u.top_level:
            dec = f"{len(u.decorated)}: {', '.join(u.decorated) or '-'}"
            rows.append([f"`{path}`", dec, f"{len(u.top_level)}: {', '.join(u.top_level) or '-'}"])
    head = ["module", "decorated functions (not mutated)", "module- and class-level code"]
    return _table(head, rows)


def wilson(killed: int, judged: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% for ``z`` = 1.96) of the killed fraction of all of a
    shard's mutants, from a uniform sample of ``judged`` of them of which ``killed`` died."""
    p, n = killed / judged, judged
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _goal(results: dict[str, Any]) -> list[str]:
    lines = []
    for shard in sorted({c.shard for c in CORE}):
        c: Counter[str] = Counter()
        files = [p for p in core_files() if shard_of(p) == shard]
        run = [p for p in files if p in results["core"]]
        for path in run:
            c.update(results["core"][path]["counts"])
        checked = sum(c.values()) - c["not checked"]
        met = (
            "not run" if not checked else "met" if c["killed"] / checked >= GOAL_CORE else "NOT met"
        )
        part = "" if len(run) == len(files) else f" (only {len(run)} of its {len(files)} files run)"
        if checked and c["not checked"]:
            low, high = wilson(c["killed"], checked)
            met = f"{met} by the estimate, 95% interval {100 * low:.0f}-{100 * high:.0f}%"
            part += f" (a sample: {checked} of its {sum(c.values())} mutants judged)"
        pct = _pct(c["killed"], checked)
        lines.append(f"- core `{shard}`: {c['killed']} of {checked} killed ({pct}): {met}{part}")
    d = Counter(m["status"] for e in results["data"].values() for m in e["mutants"])
    judged = _judged(d)
    killed = d["killed"] + d["rejected"]
    met = "not run" if not judged else "met" if killed == judged else "NOT met"
    lines.append(f"- data: {killed} of {judged} killed ({_pct(killed, judged)}): {met}")
    return lines


def render(results: dict[str, Any]) -> str:
    """``docs/mutation.md`` above the notes."""
    code_surv, data_surv = survivors(results)
    data_files, per_op = _data_tables(results)
    updated = {"date": "-", "commit": "-", "command": "-", **results.get("updated", {})}
    here = Path(__file__).parent
    intro = (here / "report_intro.md").read_text().format(**updated)
    goal = "## Goal: >= 90% of each core shard's mutants killed, 100% of the data mutants\n\n"
    sections = (
        (here / "report_sections.md")
        .read_text()
        .format(
            core=_core_table(results),
            data=data_files,
            ops=per_op,
            code="\n".join(code_surv or ["- none recorded"]),
            datasurv="\n".join(data_surv or ["- none recorded"]),
            later="\n".join(
                f"- {e['what']}: killed by {e['by']} ({e['date']})"
                for e in results.get("killed_later", [])
            )
            or "- none recorded",
            unreached=_unreached_table(),
        )
    )
    return intro + "\n" + goal + "\n".join(_goal(results)) + "\n\n" + sections


def write(results: dict[str, Any]) -> None:
    """Write ``docs/mutation.json`` and ``docs/mutation.md`` (keeping the notes)."""
    save(results)
    notes = ""
    if REPORT.exists() and NOTES_MARKER in REPORT.read_text():
        notes = REPORT.read_text().split(NOTES_MARKER, 1)[1]
    REPORT.write_text(render(results) + "\n" + NOTES_MARKER + (notes or "\n"))
