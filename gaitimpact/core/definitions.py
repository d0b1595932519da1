"""Shared definitions of the measured quantities, used by the signal core AND the simulator's truth.

Peak impact: maximum of the resultant |a| (g, specific force incl. gravity) over the impact window
[IC, IC + IMPACT_WINDOW_S[placement]] after initial contact (IC).

Loading rate (g/s): mean slope of the resultant between 20 % and 80 % of its rise from the value at
IC to the peak in the impact window: (a80 - a20) / (t80 - t20), with t20/t80 the first crossings.
"""

IMPACT_WINDOW_S = {"waist": 0.10, "shoe": 0.05, "shank": 0.08}
"""Impact window length after IC in s, per placement. The shank's IC is the tibia's first contact (axial
minimum before the shock) and real tibial shocks peak 18-57 ms after it (bach2022), hence 0.08 s."""

LOADING_RATE_FRACTIONS = (0.2, 0.8)
"""Fractions of the IC-to-peak rise between which the loading rate slope is taken."""
