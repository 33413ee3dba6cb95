"""``python -m magfw``: the same as the ``magfw`` command."""

import sys

from magfw.cli import main

sys.exit(main())
