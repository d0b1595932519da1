"""gaitimpact: foot-strike impact, loading rate and cadence from a running IMU."""

__version__ = "0.1.0"
