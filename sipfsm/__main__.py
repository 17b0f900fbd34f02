"""``python -m sipfsm`` runs the command line."""

import sys

from sipfsm.cli import main

sys.exit(main())
