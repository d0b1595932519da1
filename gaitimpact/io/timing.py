"""Timestamp facts shared by every reader: nominal rate, gap and jitter notes, merging known gaps."""

from __future__ import annotations

from gaitimpact.recording import Gap


def nice_rate_hz(fs_hz: float) -> float:
    """A measured rate in Hz rounded for display: whole Hz when within 0.5 %, else 0.01 Hz
    (4 significant digits below 1 Hz, so a slow rate never rounds to 0)."""
    r = round(fs_hz)
    if r > 0 and abs(fs_hz - r) / fs_hz < 0.005:
        return float(r)
    return round(fs_hz, 2) if fs_hz >= 1.0 else float(f"{fs_hz:.4g}")


def timing_notes(n_gaps: int, longest_gap_s: float, total_gap_s: float, step_mean_s: float,
                 step_std_s: float) -> list[str]:
    """The readers' notes on gaps and jitter, from step statistics in s."""
    out = []
    if n_gaps:
        out.append(f"{n_gaps} gap(s) in the timestamps (longest {longest_gap_s:.3g} s, total "
                   f"{total_gap_s:.3g} s); kept as gaps, not filled")
    if step_mean_s > 0 and step_std_s > 0.1 * step_mean_s:
        out.append(f"irregular sampling: interval {step_mean_s * 1e3:.3g} ms +- {step_std_s * 1e3:.2g} ms (std)")
    return out


def merge_gaps(detected: list[Gap], known: list[Gap]) -> list[Gap]:
    """Known gaps (metadata, with their reasons) plus detected gaps that none of them overlaps, sorted."""
    out = list(known)
    for g in detected:
        if not any(g.start_s < k.end_s and k.start_s < g.end_s for k in known):
            out.append(g)
    return sorted(out, key=lambda g: g.start_s)
