"""The ``sipfsm`` command line: one module per subcommand; :func:`sipfsm.cli.main.main` is the
entry point."""
