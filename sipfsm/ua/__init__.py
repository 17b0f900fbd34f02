"""The sans-IO user agent (RFC 3261 sections 8, 12-15, 9): the dialog and the UA core, which run
the dialog and session models on the engine and drive the transaction models."""
