"""``python -m flightwatch``: the same as the ``flightwatch`` command."""

import sys

from flightwatch.cli.main import main

sys.exit(main())
