"""``python -m bertsize``: the ``bertsize`` command."""

import sys

from bertsize.cli import main

sys.exit(main())
