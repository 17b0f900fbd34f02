"""``scripts/mutation``: mutation testing of sipfsm (issue 22, item 1).

mutmut 3 mutates the core Python modules (:mod:`tools.mutation.mutmut_run`); this package's
own operators mutate the grammar and the models (:mod:`tools.mutation.data`); the report is
``docs/mutation.md`` (:mod:`tools.mutation.report`). What is mutated and which tests judge it:
:mod:`tools.mutation.table`.
"""
