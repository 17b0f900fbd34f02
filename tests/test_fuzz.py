"""The fuzz harness (issue 11): hostile mutations of the RFC 4475 corpus and of generated
messages (:mod:`sipfsm.testing.mutations`: bit flips, CR/LF/NUL/high-octet insertion,
truncation, header duplication, long parameter lists, deep comments, huge digit strings, long
values), each delivered whole and trickled through a StreamFramer, judged by
:func:`sipfsm.testing.fuzz.judge`: only a named ParseError, never ``internal-error``;
serialize(parse(x)) == x, every typed view readable and parse(canonical(m)) accepted for
every accepted x; the same stream outcome however it is cut. ``scripts/fuzz`` runs the same
judge on a million inputs."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.data import RFC4475_DIR
from sipfsm.testing.fuzz import Verdict, judge
from sipfsm.testing.message_bytes import message_bytes
from sipfsm.testing.mutations import OPERATORS, mutate

CORPUS = {p.name: p.read_bytes() for p in sorted(RFC4475_DIR.glob("*.dat"))}
#: Examples per test: the CI profile's, at most 100 (each input is parsed, read, re-parsed
#: and streamed twice; a few seconds in all under ``ci``).
EXAMPLES = min(settings().max_examples, 100)


def _assert_holds(x: bytes, verdict: Verdict) -> None:
    assert not verdict.violations, f"{verdict.violations} on {x[:300]!r}"


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_corpus_message_keeps_the_contract(name: str) -> None:
    x = CORPUS[name]
    _assert_holds(x, judge(x, random.Random(name)))


@settings(max_examples=EXAMPLES)
@given(st.sampled_from(sorted(CORPUS)), st.randoms(use_true_random=False))
def test_mutated_corpus_messages_keep_the_contract(name: str, rng: random.Random) -> None:
    x, _ops = mutate(CORPUS[name], rng)
    _assert_holds(x, judge(x, rng))


@settings(max_examples=EXAMPLES)
@given(message_bytes(), st.randoms(use_true_random=False))
def test_mutated_generated_messages_keep_the_contract(data: bytes, rng: random.Random) -> None:
    x, _ops = mutate(data, rng)
    _assert_holds(x, judge(x, rng))


@settings(max_examples=EXAMPLES)
@given(
    st.sampled_from(sorted(OPERATORS)),
    st.sampled_from(sorted(CORPUS)),
    st.randoms(use_true_random=False),
)
def test_each_operator_alone_keeps_the_contract(op: str, name: str, rng: random.Random) -> None:
    x = OPERATORS[op](CORPUS[name], rng)
    _assert_holds(x, judge(x, rng))


def test_the_operators_change_their_input() -> None:
    """Each operator, on a corpus message, gives other octets for most seeds (so that a
    mutation test is not judging the seed again)."""
    seed = CORPUS["wsinv.dat"]
    for name, op in OPERATORS.items():
        changed = sum(op(seed, random.Random(k)) != seed for k in range(20))
        assert changed >= 15, name


def test_the_judge_sees_a_violation() -> None:
    """The judge can fail: an input that is accepted but whose bytes are not what serialize
    gives back cannot be made from outside, so check the two cheapest ways to fail it."""
    assert judge(b"OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n").accepted
    assert judge(b"\x00").code is not None and not judge(b"\x00").violations
    verdict = judge(b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n")
    assert verdict.accepted and not verdict.violations
