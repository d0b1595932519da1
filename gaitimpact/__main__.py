"""`python -m gaitimpact` runs the CLI."""

import sys

from gaitimpact.cli.main import main

sys.exit(main())
