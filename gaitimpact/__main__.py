"""`python -m gaitimpact` runs the CLI."""

from gaitimpact.cli.main import entry

entry()
