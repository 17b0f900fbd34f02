"""Adapters to the real world: asyncio UDP and TCP endpoints (with the framing of 18.3), the
wall-clock driver, the loopback guard and rate bounds, and a server that binds any sans-IO
element to sockets (the only place beside the probe and the CLI that touches sockets).
:mod:`sipfsm.net.aio` gathers the public names."""
