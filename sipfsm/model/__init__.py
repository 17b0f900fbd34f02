"""Data compilers, part two: the loader of ``models/`` (machines, vocabulary, timers) with its
schema checks (``models/SCHEMA.md``), and the timer values of RFC 3261 Table 4 it yields."""
