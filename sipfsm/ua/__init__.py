"""The sans-IO user agent (RFC 3261 sections 8, 12-15, 9): the dialog and the UA core, which run
the dialog and session models on the engine and drive the transaction models, and the UAS
behaviour of 8.2 (:mod:`sipfsm.ua.uas`) in front of it."""
