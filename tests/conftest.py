"""Settings for the whole test session."""

import os

# Console output wraps at $COLUMNS (80 when unset and not a terminal). pytest-xdist's temporary folders
# (.../popen-gw0/test_name0/...) make paths longer than 80 columns, so a message naming a file would wrap
# mid-path; the tests that check wrapping set COLUMNS themselves.
os.environ["COLUMNS"] = "200"
