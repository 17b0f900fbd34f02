"""Hypothesis draws of the base values T1, T2 and T4 of RFC 3261 Table 4.

17.1.1.1: T1 MAY be chosen larger than 500 ms (smaller only in closed networks); 17.1.2.2 and
17.2.1 let T2 and T4 be configured too. Every timer of Table 4 but D (and C) scales with them,
so the tests draw all three, independently, with the one constraint the RFC implies: T1 <= T2
(T2 caps intervals that start at T1). The RFC's defaults (0.5, 4, 5 s) are not special here.

Every value is a multiple of 1/16 s, so each instant the engine and the oracle compute (sums and
doublings of these) is exact in binary floating point and the two can be compared with ``==``.
"""

from __future__ import annotations

from hypothesis import strategies as st

#: T1 from 1/16 s to 2 s.
T1 = st.integers(1, 32).map(lambda k: k / 16)
#: T2 from 1/16 s to 16 s.
T2 = st.integers(1, 256).map(lambda k: k / 16)
#: T4 from 1/16 s to 16 s.
T4 = st.integers(1, 256).map(lambda k: k / 16)
#: ``(t1, t2, t4)``, drawn independently, with T1 <= T2.
BASES = st.tuples(T1, T2, T4).filter(lambda b: b[0] <= b[1])
