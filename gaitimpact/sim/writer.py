"""Write a simulation to disk: canonical CSV, metadata sidecar (`run.json`) and truth (`run.truth.json`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gaitimpact.io.csv_writer import write_csv
from gaitimpact.io.fsutil import atomic_write_bytes
from gaitimpact.io.sidecar import write_sidecar
from gaitimpact.sim.simulate import SimResult


def truth_path(csv_path: str | os.PathLike) -> Path:
    """Truth JSON path of a simulated recording: `run.csv` -> `run.truth.json`."""
    p = Path(csv_path)
    return p.with_name(p.stem + ".truth.json")


def config_dict(result: SimResult) -> dict:
    """The simulation settings as a JSON-ready dict (enough to regenerate the same files)."""
    c = result.config
    return {
        "placement": c.placement, "fs_hz": c.fs_hz, "side": c.side, "seed": c.seed,
        "segments": [{"duration_s": s.duration_s, "activity": s.activity, "speed_mps": s.speed_mps,
                      "surface": s.surface} for s in c.segments],
        "shoe": c.shoe, "shoe_km": c.shoe_km, "mount_error_deg": c.mount_error_deg,
        "random_orientation": c.random_orientation, "noise_g": c.noise_g, "bias_g": c.bias_g,
        "range_g": c.range_g, "quant_bits": c.quant_bits, "jitter_s": c.jitter_s,
        "gaps": c.gaps if isinstance(c.gaps, int) else [list(g) for g in c.gaps],
        "gyro": c.gyro, "gyro_noise_dps": c.gyro_noise_dps,
    }


def write_simulation(result: SimResult, csv_path: str | os.PathLike) -> tuple[Path, Path, Path]:
    """Write CSV (time_s, ax_g, ay_g, az_g), sidecar JSON and truth JSON; returns their paths."""
    rec = result.recording
    csv = write_csv(csv_path, rec)
    side = write_sidecar(csv, rec.meta, gaps=rec.gaps, fs_hz=rec.fs_hz, simulation=config_dict(result))
    truth = result.truth.to_dict()
    truth["config"] = config_dict(result)
    tpath = truth_path(csv)
    atomic_write_bytes(tpath, (json.dumps(truth, allow_nan=False) + "\n").encode("utf-8"))
    return csv, side, tpath
