"""Long fuzz run: 10,000+ hypothesis examples per target; prints cases tried and distinct failures found.

    python benchmarks/fuzz.py                    # 10,000 per target
    python benchmarks/fuzz.py --examples 2000 --target csv

Targets and input strategies are those of tests/fuzz (fuzzkit.py): the CSV reader, the sidecar parser
(file and object level, huge integers and hostile names included), the gaitimpact-profile and Polar PMD
packet decoders and their small parsers; files with a zero tail, a cut-off last line or an over-long line;
special files at a recording's path (FIFO, socket, device, link loop, folder); hostile names through the
terminal tables, the HTML escape and plot labels.
Unlike the test (which stops at the first failure and shrinks it), every example runs; failures are
grouped by exception type and location, with one example input each. Exit code 0 always (a benchmark).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fuzz"))

import fuzzkit  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TARGETS: dict[str, tuple[Callable[[], st.SearchStrategy], Callable[[Any], str | None]]] = {
    "csv": (lambda: st.tuples(fuzzkit.CSV_INPUTS, st.one_of(st.none(), st.sampled_from([100.0, 0.0, -1.0, 1e12]))),
            lambda x: fuzzkit.check_csv(*x)),
    "parquet": (lambda: fuzzkit.PARQUET_INPUTS, fuzzkit.check_parquet),
    "chunked-csv": (lambda: fuzzkit.CHUNKED_INPUTS, fuzzkit.check_chunked),
    "sidecar-file": (lambda: fuzzkit.SIDECAR_INPUTS, fuzzkit.check_sidecar),
    "sidecar-object": (lambda: st.one_of(fuzzkit.sidecar_objects(), fuzzkit.JSON_VALUES),
                       fuzzkit.check_sidecar_object),
    "gaitimpact-packets": (fuzzkit.gaitimpact_packet_sequences, fuzzkit.check_gaitimpact_packets),
    "polar-packets": (fuzzkit.polar_packet_sequences, fuzzkit.check_polar_packets),
    "ble-small-parsers": (lambda: st.binary(max_size=64),
                          lambda b: fuzzkit.check_polar_settings(b) or fuzzkit.check_gaitimpact_info(b)),
    "damaged-ends": (lambda: st.tuples(fuzzkit.damaged_ends(), st.none()), lambda x: fuzzkit.check_csv(*x)),
    "special-files": (lambda: fuzzkit.SPECIAL_INPUTS, fuzzkit.check_special_file),
    "hostile-names": (lambda: fuzzkit.HOSTILE_NAMES, fuzzkit.check_hostile_name),
}


def signature(problem: str) -> str:
    """Group failures by exception type and location (messages vary with the input)."""
    head = problem.split(":", 1)[0]
    where = problem.rsplit(" @ ", 1)[-1] if " @ " in problem else problem[:80]
    return f"{head} @ {where}"


def _save(folder: Path, name: str, index: int, x: Any) -> Path:
    """Write a failing input: raw bytes when it is bytes (or (bytes, rate)), else its repr."""
    folder.mkdir(parents=True, exist_ok=True)
    data = x[0] if isinstance(x, tuple) and isinstance(x[0], bytes) else x
    path = folder / f"{name}-{index}.{'bin' if isinstance(data, bytes) else 'txt'}"
    path.write_bytes(data) if isinstance(data, bytes) else path.write_text(repr(x))
    return path


def run(name: str, examples: int, seed: int, save: Path | None = None
        ) -> tuple[int, dict[str, tuple[str, str]], float]:
    """Run one target for `examples` examples; returns (cases tried, failures by signature, seconds)."""
    make, check = TARGETS[name]
    tried = 0
    failures: dict[str, tuple[str, str]] = {}

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(make())
    def body(x: Any) -> None:
        nonlocal tried
        tried += 1
        problem = check(x)
        if problem and signature(problem) not in failures:
            example = repr(x)[:240]
            if save is not None:
                example += f"\n        saved: {_save(save, name, len(failures), x)}"
            failures[signature(problem)] = (problem, example)

    started = time.perf_counter()
    body._hypothesis_internal_use_seed = seed  # reproducible runs
    body()
    return tried, failures, time.perf_counter() - started


def main() -> None:
    """Run the targets and print totals."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=10_000, help="examples per target")
    ap.add_argument("--target", choices=sorted(TARGETS), action="append", help="only these targets")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--save", type=Path, help="write each distinct failing input into this folder")
    args = ap.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)  # numpy overflow notes on absurd values are expected
    names = args.target or list(TARGETS)
    total_tried = total_fail = 0
    print(f"fuzz: {args.examples:,} examples per target, seed {args.seed}, hang limit {fuzzkit.HANG_S:g} s")
    for name in names:
        tried, failures, secs = run(name, args.examples, args.seed, args.save)
        total_tried += tried
        total_fail += len(failures)
        print(f"  {name:<20} {tried:7,d} cases  {secs:6.1f} s  {len(failures)} distinct failure(s)", flush=True)
        for problem, example in failures.values():
            print(f"      - {problem}\n        e.g. {example}")
    print(f"total: {total_tried:,} cases, {total_fail} distinct failure(s)")


if __name__ == "__main__":
    main()
