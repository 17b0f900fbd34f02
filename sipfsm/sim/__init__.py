"""Simulation on the virtual clock: the virtual network between elements and the runners of
``sipfsm trace`` (one transaction, or one INVITE session against a scripted peer)."""
