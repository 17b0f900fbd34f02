"""An independent judge of sipfsm's grammar (issue 21): RFC 3261 section 25 as printed, read by
a second ABNF engine (the ``abnf`` package, with its Rust backend when installed).

* :mod:`judge.texts`: the verbatim text (``rfc3261-verbatim.abnf``, extracted from the RFC by
  ``scripts/extract-abnf``), RFC 5954's patch of it, and the departures table of
  ``grammar/rfc3261.abnf``;
* :mod:`judge.engine`: the texts loaded into the ``abnf`` engine; messages judged part by part
  (start line, then each header field with the rule of its name);
* :mod:`judge.generate`: inputs drawn from a rule of the verbatim text, and near-miss mutants;
* :mod:`judge.differential`: sipfsm against the judge, every disagreement in one class.
"""
