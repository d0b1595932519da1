"""Run the fake BlueZ: `python -m gaitimpact.devtools.fake_bluez --help`."""

import sys

from gaitimpact.devtools.fake_bluez.cli import main

sys.exit(main())
