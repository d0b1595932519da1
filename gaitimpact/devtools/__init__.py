"""Developer tools: a private dbus-daemon and a fake BlueZ so bleak runs end to end without a radio."""
