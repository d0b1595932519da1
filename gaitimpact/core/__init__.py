"""Signal core: pure functions on numpy arrays (no I/O). Entry point: `analyze_signal`."""
