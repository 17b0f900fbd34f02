"""``python -m sipfsm`` runs the command line."""

import sys

from sipfsm.cli.main import main

sys.exit(main())
