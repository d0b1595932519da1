"""Regenerate the shipped sample recordings (all SIMULATED by gaitimpact.sim, seeds fixed).

Run from the repository root:  python data/make_samples.py [OUT_DIR]
Writes <name>.csv, <name>.json (sidecar) and <name>.truth.json for each sample below.
"""

from __future__ import annotations

from pathlib import Path

from gaitimpact.sim import SimConfig, SimSegment, simulate, write_simulation

HERE = Path(__file__).resolve().parent

SAMPLES = {
    # waist/sacrum at 200 Hz: stand, run on asphalt, walk, stand, run on grass (same speed)
    "sim_waist_asphalt_grass_200hz": SimConfig(
        placement="waist", fs_hz=200.0, seed=101, shoe="Sim Trainer", shoe_km=320.0,
        segments=[SimSegment(5, "stand"), SimSegment(100, "run", 3.3, "asphalt"), SimSegment(20, "walk", 1.4),
                  SimSegment(5, "stand"), SimSegment(100, "run", 3.3, "grass")],
        mount_error_deg=8.0, noise_g=0.01, bias_g=0.01, range_g=8.0, quant_bits=16, jitter_s=0.001,
        gaps=[(60.0, 0.25)]),
    # shoe (left, laces) at 500 Hz: stand, run on asphalt then straight onto grass
    "sim_shoe_asphalt_grass_500hz": SimConfig(
        placement="shoe", fs_hz=500.0, seed=202, side="L", shoe="Sim Trainer", shoe_km=320.0,
        segments=[SimSegment(5, "stand"), SimSegment(40, "run", 3.5, "asphalt"),
                  SimSegment(40, "run", 3.5, "grass")],
        mount_error_deg=10.0, noise_g=0.02, bias_g=0.02, range_g=16.0, quant_bits=16, jitter_s=0.0003),
    # shank (right distal tibia) at 500 Hz: running on a track at two speeds
    "sim_shank_track_500hz": SimConfig(
        placement="shank", fs_hz=500.0, seed=303, side="R", shoe="Sim Racer", shoe_km=80.0,
        segments=[SimSegment(5, "stand"), SimSegment(35, "run", 3.0, "track"),
                  SimSegment(35, "run", 4.2, "track")],
        mount_error_deg=5.0, noise_g=0.02, bias_g=0.02, range_g=16.0, quant_bits=16, jitter_s=0.0003),
}


def main(out_dir: Path = HERE) -> None:
    """Write every sample into out_dir (default: next to this script) and print its size in MB."""
    for name, cfg in SAMPLES.items():
        res = simulate(cfg)
        paths = write_simulation(res, Path(out_dir) / f"{name}.csv")
        for p in paths:
            p.chmod(0o644)
        size = sum(p.stat().st_size for p in paths[:1])
        print(f"{paths[0].name}: {res.recording.n_samples} samples, {size / 1e6:.2f} MB, "
              f"{len(res.truth.ic_time_s)} strikes, cadence {res.truth.cadence_spm:.1f} spm")


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
