"""Adapters to the real world: asyncio UDP and TCP endpoints, the wall-clock driver, loopback
guards and rate bounds (the only place beside the probe and the CLI that touches sockets)."""
