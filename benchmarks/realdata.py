"""Detection, timing, cadence and contact time of gaitimpact on REAL recordings (not the simulator).

Scores every `<name>.csv` of a folder laid out like ../shared/realdata (README there): the file is
analysed exactly as a user would (`analyze_file`, placement auto, no sidecar), then
- with a force-plate reference (`<name>.ref.json`): detected contacts are matched one to one to the
  reference contacts, closest pairs first, within 60 ms (waist) or 40 ms (shoe, shank); only reference
  contacts inside `eval_window_s` count, and a detection outside the window is neither a hit nor a
  false alarm. Pooled F1, median |IC error| and signed bias (detected - reference), cadence error
  per trial, and contact-time error (detected `contact_ms` vs the reference's, matched pairs; CT % =
  share of matched contacts with a contact time) and toe-off error (IC + contact_ms vs `to_s`);
- without a reference: cadence against an independent estimate (the stride period from the
  autocorrelation of the decimated |a| over the whole file, written here, not the core's), the
  detected step count over the detected span against that cadence's count (target within 3 %), and
  the share of step (waist) or stride (foot) intervals within 0.7-1.3x the expected period (target >= 95 %).
The placement found is checked as waist vs foot against the meta file (`placement`).

Usage: python benchmarks/realdata.py [--data DIR] [--per-trial] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitimpact.errors import GaitImpactError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "realdata"
TOL_S = {"waist": 0.060, "shoe": 0.040, "shank": 0.040}
"""Match tolerance (s) per reference placement (realdata README)."""


def _analyze(path: Path):
    """(Analysis, summary dict, error text) the way `gaitimpact analyze FILE` runs it."""
    from gaitimpact.analysis.service import analyze_path

    try:
        res = analyze_path(path)
        return res.analysis, res.summary, ""
    except GaitImpactError as exc:
        return None, None, str(exc).splitlines()[0]


def match_pairs(det: np.ndarray, ref: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matches within tol (s), closest pairs first: (detection index, reference index)."""
    if det.size == 0 or ref.size == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    dist = np.abs(det[:, None] - ref[None, :])
    i, j = np.nonzero(dist <= tol)
    order = np.argsort(dist[i, j], kind="stable")
    used_d, used_r, md, mr = set(), set(), [], []
    for a, b in zip(i[order].tolist(), j[order].tolist()):
        if a not in used_d and b not in used_r:
            used_d.add(a)
            used_r.add(b)
            md.append(a)
            mr.append(b)
    return np.asarray(md, dtype=int), np.asarray(mr, dtype=int)


def autocorr_period_s(x: np.ndarray, fs: float, lo_s: float, hi_s: float) -> float:
    """Period (s) of the highest autocorrelation peak of x within [lo_s, hi_s] (independent estimate)."""
    y = x - x.mean()
    n = y.size
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(y, nfft)
    ac = np.fft.irfft(f * np.conj(f), nfft)[:n] / (n - np.arange(n))
    lo, hi = int(lo_s * fs), int(hi_s * fs) + 1
    seg = ac[lo:hi]
    k = int(np.argmax(seg)) + lo
    if lo < k < hi - 1:
        y0, y1, y2 = ac[k - 1], ac[k], ac[k + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            return (k + 0.5 * (y0 - y2) / den) / fs
    return k / fs


@dataclass
class Trial:
    """The scores of one recording."""

    name: str
    source: str
    true_place: str
    found_place: str = "-"
    error: str = ""
    tp: int = 0
    fp: int = 0
    fn: int = 0
    err_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ct_err_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    to_err_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cad_err: float = float("nan")
    # without reference
    cad_indep: float = float("nan")
    cad_det: float = float("nan")
    count_err_pct: float = float("nan")
    regular_pct: float = float("nan")
    warnings: list[str] = field(default_factory=list)


def _foot(place: str) -> str:
    return "waist" if place == "waist" else "foot"


def score_file(csv: Path) -> Trial:
    """Analyse one recording and score it against its reference or the independent cadence."""
    meta = json.loads(csv.with_suffix(".meta.json").read_text())
    ref_path = csv.with_suffix(".ref.json")
    name = csv.stem
    source = name.split("_")[0] + ("_" + name.split("_")[1] if name.startswith("adept") else "")
    tr = Trial(name, source, meta["placement"])
    ana, summ, err = _analyze(csv)
    if ana is None:
        tr.error = err
    else:
        tr.found_place = ana.placement
        tr.warnings = list(summ.get("warnings", []))
    det = ana.strikes.time_s if ana is not None else np.zeros(0)
    det_ct = (np.asarray(getattr(ana.strikes, "contact_ms", np.full(det.size, np.nan)), dtype=float)
              if ana is not None else np.zeros(0))
    if ref_path.exists():
        ref = json.loads(ref_path.read_text())
        ric = np.asarray(ref["ic_s"], dtype=float)
        rct = np.asarray([np.nan if c is None else c for c in ref.get("contact_ms", [None] * ric.size)], dtype=float)
        w0, w1 = ref["eval_window_s"]
        inwin = (ric >= w0) & (ric <= w1)
        md, mr = match_pairs(det, ric, TOL_S[tr.true_place])
        hit = inwin[mr]
        tr.tp = int(hit.sum())
        tr.fn = int(inwin.sum()) - tr.tp
        unmatched = np.ones(det.size, dtype=bool)
        unmatched[md] = False
        tr.fp = int(np.count_nonzero(unmatched & (det >= w0) & (det <= w1)))
        tr.err_s = det[md[hit]] - ric[mr[hit]]
        ce = det_ct[md[hit]] - rct[mr[hit]]
        tr.ct_err_ms = ce[np.isfinite(ce)]
        rto = np.asarray([np.nan if x is None else x for x in ref.get("to_s", [None] * ric.size)], dtype=float)
        te = (det[md[hit]] + det_ct[md[hit]] / 1e3 - rto[mr[hit]]) * 1e3
        tr.to_err_ms = te[np.isfinite(te)]
        if ana is not None:
            tr.cad_err = float(ana.cadence_spm - ref["cadence_spm"])
    else:
        _score_without_reference(csv, tr, ana, det)
    return tr


def _score_without_reference(csv: Path, tr: Trial, ana, det: np.ndarray) -> None:
    """Cadence vs an independent autocorrelation estimate, step count and interval regularity."""
    data = np.loadtxt(csv, delimiter=",", skiprows=1)
    t, acc = data[:, 0], data[:, 1:4]
    fs = 1.0 / float(np.median(np.diff(t)))
    res = np.linalg.norm(acc, axis=1)
    # ~50 Hz block means of |a| (a crude low-pass), autocorrelation over the whole bout
    dec = max(1, int(round(fs / 50)))
    n = res.size // dec * dec
    r = res[:n].reshape(-1, dec).mean(axis=1)
    fs_d = fs / dec
    # the stride is the robust period in either place (one side of a hip belt feels the two legs
    # differently, so its step peak is weak); a step is half a stride
    step = autocorr_period_s(r, fs_d, 0.5, 1.1) / 2.0
    tr.cad_indep = 60.0 / step
    if ana is None or det.size < 2:
        return
    tr.cad_det = float(ana.cadence_spm)
    per = 1 if ana.placement == "waist" else 2
    span = float(det[-1] - det[0])
    expected_steps = span / step
    tr.count_err_pct = 100.0 * ((det.size - 1) * per - expected_steps) / expected_steps
    period = step * per
    d = np.diff(det)
    tr.regular_pct = 100.0 * float(np.mean((d >= 0.7 * period) & (d <= 1.3 * period)))
    tr.cad_err = tr.cad_det - tr.cad_indep


def _fmt(x: float, spec: str) -> str:
    return format(x, spec) if np.isfinite(x) else "-"


def summarise(trials: list[Trial]) -> list[dict]:
    """One row per source: placement right, F1, timing, cadence, contact time or the no-reference checks."""
    rows = []
    for src in dict.fromkeys(t.source for t in trials):
        ts = [t for t in trials if t.source == src]
        place_ok = sum(_foot(t.found_place) == _foot(t.true_place) for t in ts if t.found_place != "-")
        tp, fp, fn = (sum(getattr(t, k) for t in ts) for k in ("tp", "fp", "fn"))
        err = np.concatenate([t.err_s for t in ts]) * 1e3
        ct = np.concatenate([t.ct_err_ms for t in ts])
        to = np.concatenate([t.to_err_ms for t in ts])
        cad = np.array([t.cad_err for t in ts], dtype=float)
        row = {
            "source": src, "placement": ts[0].true_place, "files": len(ts),
            "refused": sum(bool(t.error) for t in ts),
            "placement_right": place_ok,
            "placement_found": sorted({t.found_place for t in ts}),
            "worst_cadence_err_spm": float(np.nanmax(np.abs(cad))) if np.isfinite(cad).any() else float("nan"),
        }
        if any(t.tp + t.fn for t in ts):
            row.update({
                "tp": tp, "fp": fp, "fn": fn,
                "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
                "ic_abs_err_ms_median": float(np.median(np.abs(err))) if err.size else float("nan"),
                "ic_bias_ms": float(np.median(err)) if err.size else float("nan"),
                "contact_abs_err_ms_median": float(np.median(np.abs(ct))) if ct.size else float("nan"),
                "contact_bias_ms": float(np.median(ct)) if ct.size else float("nan"),
                "contact_n": int(ct.size),
                "contact_timed_pct": 100.0 * ct.size / max(tp, 1),
                "to_abs_err_ms_median": float(np.median(np.abs(to))) if to.size else float("nan"),
                "to_bias_ms": float(np.median(to)) if to.size else float("nan"),
            })
        else:
            cnt = np.array([t.count_err_pct for t in ts], dtype=float)
            reg = np.array([t.regular_pct for t in ts], dtype=float)
            row.update({
                "worst_count_err_pct": float(np.nanmax(np.abs(cnt))) if np.isfinite(cnt).any() else float("nan"),
                "worst_regular_pct": float(np.nanmin(reg)) if np.isfinite(reg).any() else float("nan"),
            })
        rows.append(row)
    return rows


def main() -> None:
    """Score the folder and print one table per kind (with reference / without)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of <name>.csv + .meta.json [+ .ref.json]")
    ap.add_argument("--per-trial", action="store_true", help="also print one line per recording")
    ap.add_argument("--json", type=Path, help="write the per-source rows and per-trial scores here")
    args = ap.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"{args.data}: no such folder (give --data DIR)")
    t0 = time.perf_counter()
    files = sorted(p for p in args.data.glob("*.csv") if p.with_suffix(".meta.json").exists())
    trials = [score_file(p) for p in files]
    rows = summarise(trials)
    print(f"gaitimpact on real recordings ({args.data}): placement auto, no sidecar; matching one to one, "
          "closest first, 60 ms waist / 40 ms shoe+shank, reference contacts inside eval_window_s only")
    head = (f"{'source':14s} {'place':6s} {'files':>5s} {'refused':>7s} {'place ok':>8s} {'F1':>6s} "
            f"{'TP/FP/FN':>12s} {'|IC| ms':>7s} {'bias ms':>7s} {'cad err':>7s} {'|CT| ms':>7s} {'CT bias':>7s} "
            f"{'CT %':>5s} {'|TO| ms':>7s} {'TO bias':>7s}")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "f1" not in r:
            continue
        print(f"{r['source']:14s} {r['placement']:6s} {r['files']:5d} {r['refused']:7d} "
              f"{r['placement_right']:4d}/{r['files']:<3d} {r['f1']:6.3f} "
              f"{r['tp']:4d}/{r['fp']:3d}/{r['fn']:3d} {_fmt(r['ic_abs_err_ms_median'], '7.1f')} "
              f"{_fmt(r['ic_bias_ms'], '+7.1f')} {_fmt(r['worst_cadence_err_spm'], '7.2f')} "
              f"{_fmt(r['contact_abs_err_ms_median'], '7.1f')} {_fmt(r['contact_bias_ms'], '+7.1f')} "
              f"{r['contact_timed_pct']:5.1f} {_fmt(r['to_abs_err_ms_median'], '7.1f')} "
              f"{_fmt(r['to_bias_ms'], '+7.1f')}")
    print("\nwithout reference: cadence vs autocorrelation of |a|, steps over the detected span vs that "
          "cadence (target within 3 %), intervals within 0.7-1.3x the period (target >= 95 %)")
    head2 = (f"{'source':14s} {'place':6s} {'files':>5s} {'found':>14s} {'cad err spm':>11s} "
             f"{'count err %':>11s} {'regular %':>9s}")
    print(head2)
    print("-" * len(head2))
    for r in rows:
        if "f1" in r:
            continue
        print(f"{r['source']:14s} {r['placement']:6s} {r['files']:5d} {','.join(r['placement_found']):>14s} "
              f"{_fmt(r['worst_cadence_err_spm'], '11.2f')} {_fmt(r['worst_count_err_pct'], '11.2f')} "
              f"{_fmt(r['worst_regular_pct'], '9.1f')}")
    if args.per_trial:
        print("\nper trial:")
        for t in trials:
            med = np.median(np.abs(t.err_s)) * 1e3 if t.err_s.size else float("nan")
            bias = np.median(t.err_s) * 1e3 if t.err_s.size else float("nan")
            ctm = np.median(t.ct_err_ms) if t.ct_err_ms.size else float("nan")
            print(f"  {t.name:28s} {t.found_place:6s} tp/fp/fn {t.tp:3d}/{t.fp:3d}/{t.fn:3d} |IC| {_fmt(med, '6.1f')} "
                  f"bias {_fmt(bias, '+6.1f')} cad {_fmt(t.cad_err, '+6.2f')} CT {_fmt(ctm, '+6.1f')} "
                  f"count {_fmt(t.count_err_pct, '+6.2f')}% reg {_fmt(t.regular_pct, '5.1f')}% {t.error}")
    if args.json:
        per = [{"name": t.name, "source": t.source, "placement": t.true_place, "found": t.found_place,
                "error": t.error, "tp": t.tp, "fp": t.fp, "fn": t.fn,
                "ic_err_ms": [round(float(e) * 1e3, 2) for e in t.err_s],
                "contact_err_ms": [round(float(e), 1) for e in t.ct_err_ms],
                "cadence_err_spm": t.cad_err, "count_err_pct": t.count_err_pct, "regular_pct": t.regular_pct}
               for t in trials]
        args.json.write_text(json.dumps({"sources": rows, "trials": per}, indent=1, default=float))
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
