"""``python -m temnet_app`` runs the command-line interface."""

import sys

from temnet_app.cli import main

sys.exit(main())
