"""The stateful proxy (RFC 3261 16) and the registrar (10.3) on the one engine, sans-IO."""
