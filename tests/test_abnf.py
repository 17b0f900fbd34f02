"""The ABNF reader (RFC 5234 / RFC 7405) and the transcription of the grammar files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, SHARED
from judge.texts import baseline_text, departures, rule_map, verbatim_text

from sipfsm.abnf.compile import SOURCES
from sipfsm.abnf.reader import (
    AbnfError,
    Alt,
    Lit,
    Range,
    Ref,
    Rep,
    Seq,
    check,
    parse_abnf,
    read_abnf,
)

GRAMMAR = ROOT / "grammar"
RFC3261 = SHARED / "spec" / "rfc3261.txt"


def rules(text: str) -> dict[str, object]:
    return {name: body for name, _, body, _, _ in parse_abnf(text)}


def test_elements_of_rfc5234() -> None:
    got = rules(
        'a = "Ab" / %s"Cd" / %i"eF"\n'
        "b = %x41-5A %d65 %b1000001 %x41.42.43\n"
        "c = 1*4DIGIT *x 3y 2*z *3w\n"
        "d = [ a ] ( b / c ) ; comment\n"
    )
    assert got["a"] == Alt((Lit("Ab", False), Lit("Cd", True), Lit("eF", False)))
    assert got["b"] == Seq(
        (
            Range(0x41, 0x5A),
            Range(65, 65),
            Range(65, 65),
            Seq((Range(65, 65), Range(66, 66), Range(67, 67))),
        )
    )
    c = got["c"]
    assert isinstance(c, Seq)
    assert [(r.min, r.max) for r in c.items if isinstance(r, Rep)] == [
        (1, 4),
        (0, None),
        (3, 3),
        (2, None),
        (0, 3),
    ]
    assert got["d"] == Seq((Rep(0, 1, Ref("a")), Alt((Ref("b"), Ref("c")))))


def test_continuation_lines_comments_and_blank_lines() -> None:
    got = rules("; leading comment\n\nr = a\n    / b ; why\n      ; more words\n    / c\n\ns = r\n")
    assert got["r"] == Alt((Ref("r") if False else Ref("a"), Ref("b"), Ref("c")))
    assert got["s"] == Ref("r")


def test_incremental_alternatives_merge_in_order() -> None:
    g = read_abnf(
        [("one.abnf", "m = a / b\na = %x61\nb = %x62\n"), ("two.abnf", "M =/ c\nc = %x63\n")]
    )
    assert g.rules["m"].body == Alt((Ref("a"), Ref("b"), Ref("c")))


def test_rule_names_are_case_insensitive() -> None:
    g = read_abnf([("x.abnf", "Top = Leaf\nLEAF = %x30\n")])
    check(g)
    assert g.unused(["top"]) == []


def test_undefined_and_unused_rules_are_reported() -> None:
    g = read_abnf([("x.abnf", "top = used missing\nused = %x30\norphan = %x31\n")])
    assert [u[0] for u in g.undefined] == ["missing"]
    assert g.undefined[0][1:] == ("x.abnf", 1, 12, "top")
    assert g.unused(["top"]) == ["orphan"]
    with pytest.raises(AbnfError) as err:
        check(g)
    assert (err.value.file, err.value.line, err.value.column, err.value.rule) == (
        "x.abnf",
        1,
        12,
        "top",
    )
    assert "missing" in str(err.value)


def test_prose_values_are_refused_with_their_position() -> None:
    with pytest.raises(AbnfError) as err:
        parse_abnf("ok = %x30\nbad = ok\n   / <some prose>\n", "p.abnf")
    e = err.value
    assert (e.file, e.line, e.column, e.rule) == ("p.abnf", 3, 6, "bad")
    assert "prose" in e.reason


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("a = %x30\nb = (a\n", 2, 7, "unexpected"),
        ("a = %x30\nb = %x39-31\n", 2, 5, "empty range"),
        ("a = %x30\nb = a )\n", 2, 7, "unexpected"),
        ("a = %x30\nb = a @\n", 2, 7, "unexpected character"),
        ("a = 3*2b\nb = %x30\n", 1, 5, "maximum below minimum"),
    ],
)
def test_syntax_errors_say_where(text: str, line: int, column: int, words: str) -> None:
    with pytest.raises(AbnfError) as err:
        parse_abnf(text, "s.abnf")
    assert (err.value.line, err.value.column) == (line, column)
    assert words in err.value.reason


def test_defining_twice_and_extending_the_undefined_fail() -> None:
    with pytest.raises(AbnfError, match="defined twice"):
        read_abnf([("d.abnf", "a = %x30\nA = %x31\n")])
    with pytest.raises(AbnfError, match="not defined yet"):
        read_abnf([("d.abnf", "a =/ %x30\n")])


def test_the_grammar_files_are_closed() -> None:
    g = read_abnf([GRAMMAR / s for s in SOURCES])
    check(g)  # nothing undefined
    core = set(read_abnf([GRAMMAR / "core.abnf"]).rules)
    unused = {u for u in g.unused(["SIP-message"]) if u.lower() not in core}
    assert unused == {"separators"}, "RFC 3261 defines separators but never uses it"


def test_each_extension_file_cites_its_rfc() -> None:
    for name in SOURCES[2:]:
        number = re.search(r"rfc(\d+)", name)
        assert number is not None
        assert f"RFC {number.group(1)}" in (GRAMMAR / name).read_text().splitlines()[0]


def _section_25() -> list[str]:
    """The lines of RFC 3261's section 25 (25.1 to the start of 26), read from the RFC text."""
    text = RFC3261.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("25.1 Basic Rules"))
    end = next(i for i, line in enumerate(text) if line.startswith("26 Security"))
    return text[start:end]


def _rfc_rule_names() -> list[str]:
    """Rule names defined in RFC 3261's section 25, in order, read from the RFC text."""
    names = []
    for line in _section_25():
        m = re.match(r"^ {0,6}([A-Za-z][A-Za-z0-9-]*)\s+=[^/]", line)
        if m:
            names.append(m.group(1))
    return names


@pytest.mark.skipif(not RFC3261.exists(), reason="shared/spec/rfc3261.txt is not there")
def test_rfc3261_abnf_has_every_rule_of_section_25_in_order() -> None:
    """Every rule the RFC prints, in its order; the departures table says which rules are
    taken out (RFC 5954's row: the rules its patch removes) and which are added (RFC 5954's
    new rules, and the rules a ``grammar`` row sets that section 25 does not define)."""
    ours = [name for name, *_ in parse_abnf((GRAMMAR / "rfc3261.abnf").read_text())]
    rfc = _rfc_rule_names()
    printed = {n.lower() for n in rfc}
    removed, added = _rfc5954_removed_added()
    added |= {name for name in _grammar_row_texts() if name not in printed}
    assert removed and added  # RFC 5954 alone takes out three rules and adds three
    assert [n for n in rfc if n.lower() not in removed] == [
        n for n in ours if n.lower() not in added
    ]
    assert len(rfc) > 250


def _rfc_abnf() -> str:
    """Section 25's ABNF as RFC 3261 prints it: its rules are indented by six (two start in
    the first column); prose (indented by three), page breaks and blank lines are left out,
    and the stray continuation "by HTTP/1.1" of digest-uri-value too (our file makes it a
    comment, as its header says)."""
    keep = []
    for line in _section_25():
        if line.startswith("      "):
            keep.append(line[6:])
        elif re.match(r"[A-Za-z][A-Za-z0-9-]*\s+=", line):
            keep.append(line)
    return "\n".join(k for k in keep if k.strip() != "by HTTP/1.1") + "\n"


def _rfc5954_removed_added() -> tuple[set[str], set[str]]:
    """The rules (lower-cased) that RFC 5954's patch (the ``rfc5954`` row, ``baseline``) takes
    out of the printed text and puts in, read by the judge's reader (``tests/judge``)."""
    before, after = rule_map(verbatim_text()).keys(), rule_map(baseline_text()).keys()
    return set(before - after), set(after - before)


def _rfc5954_texts() -> dict[str, object]:
    """The rules RFC 5954's patch changes or adds (lower-cased name -> their tree)."""
    before, after = rule_map(verbatim_text()), rule_map(baseline_text())
    changed = {k: r for k, r in after.items() if k not in before or before[k].normal != r.normal}
    return {k: _tree(f"{r.name} = {r.body.strip()}") for k, r in changed.items()}


def _grammar_row_texts() -> dict[str, list[tuple[str, object]]]:
    """The rules the ``grammar`` rows of the departures table set (lower-cased name -> every
    (row, tree of the row's exact text)): the one table, read by ``judge.texts``."""
    out: dict[str, list[tuple[str, object]]] = {}
    for row in departures():
        if row.where == "grammar":
            for r in row.sets:
                out.setdefault(r.key, []).append((row.id, _tree(f"{r.name} = {r.body.strip()}")))
    return out


def _tree(rule_text: str) -> object:
    ((_, _, body, _, _),) = parse_abnf(rule_text + "\n")
    return body


@pytest.mark.skipif(not RFC3261.exists(), reason="shared/spec/rfc3261.txt is not there")
def test_rfc3261_abnf_rules_are_the_rfcs_but_the_marked_departures() -> None:
    """Each rule of grammar/rfc3261.abnf reads as RFC 3261 section 25 prints it (the trees
    compared, white space and comments aside), but where a row of the departures table at
    the top of the file (read by ``judge.texts``: the only list) holds exactly its text:
    RFC 5954's patch (``tests/judge/rfc5954.patch``) or a ``grammar`` row. A row exempts its
    text, not the rule's name: a rule that departs otherwise fails here by name. (A changed
    repetition or a dropped alternative that no parser test notices fails here:
    scripts/mutation's data mutants found one, ``warn-code = 3*4DIGIT``.)"""
    rfc = {name.lower(): body for name, _, body, _, _ in parse_abnf(_rfc_abnf())}
    ours = {k.lower(): v for k, v in rules((GRAMMAR / "rfc3261.abnf").read_text()).items()}
    rows, patched = _grammar_row_texts(), _rfc5954_texts()
    differ = {name for name in rfc.keys() & ours.keys() if rfc[name] != ours[name]}
    unmarked = {
        name
        for name in differ
        if patched.get(name) != ours[name] and all(t != ours[name] for _, t in rows.get(name, []))
    }
    assert not unmarked, f"rules that differ from the RFC with no departures row: {unmarked}"
    # And every departure the table marks is there (a row whose text grammar/ lost fails).
    marked = {n for n in rfc.keys() & patched.keys() if patched[n] != rfc[n]}
    marked |= {n for n, texts in rows.items() if n in rfc and any(t != rfc[n] for _, t in texts)}
    assert differ == marked and marked  # RFC 5954 alone marks two
    assert len(rfc.keys() & ours.keys()) > 250


def test_rfc5954_correction_is_applied_and_marked() -> None:
    text = (GRAMMAR / "rfc3261.abnf").read_text()
    assert "RFC 5954" in text
    g = read_abnf([GRAMMAR / "core.abnf", GRAMMAR / "rfc3261.abnf"])
    assert "hexpart" not in g.rules and "h16" in g.rules and "dec-octet" in g.rules


def test_reads_files_from_paths(tmp_path: Path) -> None:
    f = tmp_path / "t.abnf"
    f.write_text("t = %x74\n")
    g = read_abnf([f])
    assert g.rules["t"].file == str(f)


def test_header_table_reads_only_comma_lists_of_one_rule() -> None:
    """7.3.1: a header is a list only when its value is ``x *(COMMA x)``; a ``*(SEMI x)``
    repetition, or a comma list of a different rule, gives no element rule."""
    from sipfsm.abnf.header_table import header_specs

    g = read_abnf(
        [
            (
                "h.abnf",
                "message-header = ( Listed / Semis / Mixed / Opt ) CRLF\n"
                'Listed = "Listed" HCOLON elt *(COMMA elt)\n'
                'Semis = "Semis" HCOLON elt *(SEMI elt)\n'
                'Mixed = "Mixed" HCOLON elt *(COMMA other)\n'
                'Opt = "Opt" HCOLON [ elt *(COMMA elt) ]\n'
                "elt = %x61\nother = %x62\n"
                "HCOLON = %x3A\nCOMMA = %x2C\nSEMI = %x3B\nCRLF = %x0D.0A\n",
            )
        ]
    )
    items = {spec.rule: spec.item for spec in header_specs(g)}
    assert items == {"Listed": "elt", "Semis": None, "Mixed": None, "Opt": "elt"}
