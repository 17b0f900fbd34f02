"""Print the agreement table: ``cd tests && ../.venv/bin/python -m judge [MUTANTS] [PER_RULE]``.

Every RFC 4475 message and MUTANTS (5,000) near-miss mutants of them, 200 messages of
``sipfsm.strategies`` with 5 mutants each, and PER_RULE (300) inputs for each rule and each
sipfsm path (the figures of issue 21's closing note).
"""

from __future__ import annotations

import random
import sys
import time
import warnings
from pathlib import Path

import sipfsm.data
from judge import engine, paths
from judge.differential import Table, judge_message, message_mutant
from sipfsm.strategies import message_bytes


def main(argv: list[str]) -> int:
    mutants = int(argv[0]) if argv else 5000
    per_rule = int(argv[1]) if len(argv) > 1 else 300
    t0 = time.perf_counter()
    folder = Path(sipfsm.data.__path__[0]) / "rfc4475"
    corpus = [p.read_bytes() for p in sorted(folder.glob("*.dat"))]
    table = Table()
    for data in corpus:
        table.add("rfc4475", data, judge_message(data))
    rng = random.Random(21)
    for _ in range(mutants):
        m = message_mutant(rng.choice(corpus), rng)
        table.add("rfc4475 mutants", m, judge_message(m))
    strategy = message_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(200):
            data = strategy.example()
            table.add("strategies", data, judge_message(data))
            for _ in range(5):
                m = message_mutant(data, rng)
                table.add("strategy mutants", m, judge_message(m))
    for rule in paths.RULES:
        paths.check_rule(rule, per_rule, 21, table)
    for rule in paths.LALR_FIELDS:
        paths.check_lalr(rule, per_rule, 21, table)
    for name, (rule, fullmatch) in sorted(paths.hand_written().items()):
        paths.check_regex(name, rule, fullmatch, per_rule, 21, table)
    print(table.render())
    fast = paths.fast_path_misses(2 * per_rule, 21) + paths.list_misses(per_rule // 10, 21)
    print(f"fast paths and list splitters: {len(fast)} misses")
    print(f"backend {engine.BACKEND}, {time.perf_counter() - t0:.1f} s")
    for src, item, v in table.unclassified[:20]:
        print(f"UNCLASSIFIED {src}: {item!r}: {v.detail}")
    return 1 if table.unclassified or fast else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
