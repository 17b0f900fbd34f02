"""The sans-IO engine: one compiled table and one runner for every model of ``models/``
(transactions, dialog, INVITE sessions), the output records they yield, the ``transitions``
reference backend, and the transaction layer of RFC 3261 17.1.3 and 17.2.3."""
