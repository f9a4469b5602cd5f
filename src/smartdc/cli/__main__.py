"""``python -m smartdc.cli``."""

import sys

from smartdc.cli.app import main

sys.exit(main())
