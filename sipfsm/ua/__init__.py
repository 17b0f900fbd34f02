"""The sans-IO user agent (RFC 3261 sections 8, 12-15, 9): the dialog (``dialog``) and the UA
core (``core``: the UAC half ``uac``, the UAS half ``uas``, what they share ``base``, the INVITE
session ``session``, the UA's identifiers ``identifiers``), which run the dialog and session
models on the engine, carry out the records they return, and drive the transaction models; and
the UAS behaviour of 8.2 (``screen``: requests screened before they reach the UA core)."""
