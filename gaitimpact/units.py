"""Physical constants and unit conversions used across the package."""

STANDARD_GRAVITY_MPS2 = 9.80665
"""1 g in m/s^2 (standard gravity)."""

MG_PER_G = 1000.0
"""milli-g per g."""
