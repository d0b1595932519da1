"""Run a batch: discover recordings, skip those already done (content hash), analyse the rest in parallel.

Parallel back-ends: a local process pool (default one worker per core; `jobs=1` runs in-process) or an
existing Dask cluster (`dask_address`), which gives the same rows in the same order.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import (
    Task as RichTask,
)
from rich.text import Text

from gaitimpact.analysis.heap import keep_freed_memory
from gaitimpact.batch.discover import find_recordings
from gaitimpact.batch.flatten import DONE_STATUSES
from gaitimpact.batch.state import Journal, content_hash, journal_path
from gaitimpact.batch.worker import CHUNKED_MIN_BYTES, DEFAULT_ANALYZER, Task, run_task
from gaitimpact.errors import InputError

if TYPE_CHECKING:  # pandas loads only to write or read a result table: a resumed batch with nothing to do
    import pandas as pd  # and nothing changed never imports it

DASK_HINT = "--dask needs dask.distributed: pip install gaitimpact[dask]"


@dataclass
class BatchReport:
    """Outcome of a batch: rows in discovery order, how many were analysed now vs reused, the failures."""

    rows: list[dict[str, Any]]
    analysed: int = 0
    reused: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0
    out: Path | None = None

    @property
    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (one row per file)."""
        return rows_frame(self.rows)

    analysis_s: float = 0.0
    """Wall time from starting the workers to the last result, s (what the progress bar's rate divides by)."""

    @property
    def files_per_s(self) -> float:
        """Files analysed now per second of analysis wall time (the progress bar's final rate)."""
        return self.analysed / self.analysis_s if self.analysis_s > 0 else 0.0


def average_rate(completed: float, elapsed_s: float | None) -> float | None:
    """Files per second since the start (completed / elapsed), None before the first file is done."""
    return completed / elapsed_s if completed and elapsed_s else None


class FilesPerSecondColumn(ProgressColumn):
    """Progress column: files finished per second since the start (the same rate the summary reports)."""

    def render(self, task: RichTask) -> Text:
        """Render the rate, e.g. "3.2 files/s"."""
        elapsed = task.finished_time if task.finished else task.elapsed
        speed = average_rate(task.completed, elapsed)
        return Text("-- files/s" if speed is None else f"{speed:.2f} files/s", style="progress.data.speed")


def default_jobs() -> int:
    """One worker per core available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def rows_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows -> DataFrame with `file,status,error,sha256` first and the summary columns in first-seen order."""
    import pandas as pd

    columns: dict[str, None] = {}
    for row in rows:
        for key in row:
            columns.setdefault(key, None)
    return pd.DataFrame(list(rows), columns=list(columns))


def write_results(rows: Sequence[dict[str, Any]], out: str | Path) -> Path:
    """Write the rows atomically as Parquet (`.parquet`) or CSV (anything else); returns the path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = rows_frame(rows)
    tmp = out.with_name(out.name + ".tmp")
    if out.suffix.lower() == ".parquet":
        for col in frame.columns:
            if frame[col].dtype == object:
                types = {type(v) for v in frame[col] if v is not None and not (isinstance(v, float) and v != v)}
                if len(types) > 1:
                    frame[col] = frame[col].map(lambda v: None if v is None else str(v))
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False)
    os.replace(tmp, out)
    return out


def results_fingerprint(rows: Sequence[dict[str, Any]]) -> str:
    """sha256 (hex) of the result rows in order: a re-run that would write the same table can skip it."""
    text = json.dumps(list(rows), sort_keys=True, allow_nan=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a batch result table written by `write_results`."""
    import pandas as pd

    path = Path(path)
    return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)


def steps_file_name(path: Path, roots: Sequence[Path], suffix: str = ".csv") -> str:
    """Per-strike table name for a recording: its path under the given root, "/" -> "__", + ".steps.csv"."""
    resolved = path.resolve()
    rel: Path | None = None
    for root in roots:
        root = root.resolve()
        base = root if root.is_dir() else root.parent
        if resolved == root or base in resolved.parents:
            rel = resolved.relative_to(base)
            break
    stem = str((rel or Path(path.name)).with_suffix(""))
    stem = re.sub(r"[\\/]+", "__", stem)
    return f"{stem}.steps{suffix}"


def unique_steps_names(files: Sequence[Path], roots: Sequence[Path]) -> list[str]:
    """`steps_file_name` of each file; names two files would share (DIR/a/b.csv and DIR/a__b.csv) get a
    short hash of the file's path, so no per-strike table overwrites another."""
    names = [steps_file_name(p, roots) for p in files]
    counts = Counter(names)
    out = []
    for path, name in zip(files, names):
        if counts[name] > 1:
            tag = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:8]
            stem, _, suffix = name.rpartition(".steps")
            name = f"{stem}.{tag}.steps{suffix}"
        out.append(name)
    return out


def _pool_results(tasks: list[Task], jobs: int) -> Iterator[dict[str, Any]]:
    """Run tasks in-process (jobs == 1) or in a process pool; yields rows as they finish."""
    if not tasks:  # a resumed batch with every file done starts no worker
        return
    if jobs <= 1:
        for task in tasks:
            yield run_task(task)
        return
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=worker_init, initargs=(os.getpid(),))
    finished = False
    try:
        futures = {pool.submit(run_task, task): task for task in tasks}
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                row = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died (OOM, signal) fails its file only
                row = _crashed_row(task, exc)
            yield row
        finished = True
    finally:  # on Ctrl-C, SIGTERM or an error: drop the queued files and stop the running ones at once
        if not finished:
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()  # a partly written steps file is a temp file: nothing half-written remains
        pool.shutdown(wait=True, cancel_futures=True)


def worker_init(parent_pid: int) -> None:
    """Pool worker set-up: Ctrl-C is the parent's to handle, and the worker dies with its parent (Linux
    PR_SET_PDEATHSIG), so killing `batch`, even with SIGKILL, leaves no worker running."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's SIGTERM-as-Ctrl-C handler
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)
    keep_freed_memory()  # as the CLI process: a spawned worker does not inherit it


def _crashed_row(task: Task, exc: BaseException) -> dict[str, Any]:
    """Row for a file whose worker died."""
    reason = " ".join(f"worker failed ({type(exc).__name__}): {exc}".split())
    return {"file": task.path, "status": "failed", "error": reason, "sha256": task.key}


def dask_client(address: str) -> Any:
    """Connect to an existing dask.distributed scheduler at `address` (InputError if dask is missing)."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise InputError(DASK_HINT, field="--dask") from exc
    try:
        return Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address}: {exc}", field="--dask") from exc


def _dask_results(tasks: list[Task], address: str | Any) -> Iterator[dict[str, Any]]:
    """Run tasks on a Dask cluster (address string or an existing Client); yields rows as they finish."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_as_completed
    except ImportError as exc:
        raise InputError(DASK_HINT, field="--dask") from exc
    own = not isinstance(address, Client)
    client = dask_client(address) if own else address
    futures: list[Any] = []
    try:
        if not tasks:
            return
        keys = [f"gaitimpact-batch-{t.key[:16]}-{t.index}" for t in tasks]
        futures = client.map(run_task, tasks, pure=False, key=keys)
        by_key = {fut.key: task for fut, task in zip(futures, tasks)}
        with client.as_current():
            for fut in dask_as_completed(futures):
                try:
                    row = fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker fails its file only
                    row = _crashed_row(by_key[fut.key], exc)
                yield row
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        if own:
            client.close()


def run_batch(
    paths: Sequence[str | Path],
    *,
    jobs: int | None = None,
    dask_address: str | Any | None = None,
    out: str | Path | None = None,
    steps_dir: str | Path | None = None,
    rate_hz: float | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
    console: Console | None = None,
    analyzer: str = DEFAULT_ANALYZER,
    chunked_min_bytes: int = CHUNKED_MIN_BYTES,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> BatchReport:
    """Analyse every recording under `paths`; resumable through a journal next to `out`; rows in file order."""
    started = time.perf_counter()
    out_path = Path(out) if out is not None else None
    steps_root = Path(steps_dir) if steps_dir is not None else None
    exclude: list[Path] = []
    if out_path is not None:
        exclude += [out_path, journal_path(out_path)]
    if steps_root is not None:
        exclude.append(steps_root)
    files = find_recordings(paths, exclude=exclude)
    if not files:
        raise InputError("no recordings (.csv, .txt, .tsv, .parquet) found under " + ", ".join(map(str, paths)))
    settings = {"rate_hz": rate_hz, "overrides": overrides or {}}
    roots = [Path(p) for p in paths]
    journal = Journal(journal_path(out_path)) if out_path is not None else None
    console = console or Console(stderr=True)
    if journal is not None and journal.skipped:
        lines = ", ".join(map(str, journal.skipped[:5])) + (", ..." if len(journal.skipped) > 5 else "")
        console.print(Text(f"warning: {journal.path}: {len(journal.skipped)} damaged or edited entries ignored "
                           f"(line {lines}); their files are analysed again", style="yellow"))

    rows: list[dict[str, Any] | None] = [None] * len(files)
    tasks: list[Task] = []
    reused = 0
    steps_names = unique_steps_names(files, roots) if steps_root is not None else []
    for index, path in enumerate(files):
        key = content_hash(path, settings=settings)
        steps_path = str(steps_root / steps_names[index]) if steps_root is not None else None
        done = journal.lookup(key) if journal is not None else None
        if done is not None and (steps_path is None or Path(steps_path).is_file()):
            rows[index] = {**done, "file": str(path)}
            reused += 1
            continue
        tasks.append(Task(index=index, path=str(path), key=key, rate_hz=rate_hz, overrides=dict(overrides or {}),
                          steps_path=steps_path, analyzer=analyzer, chunked_min_bytes=chunked_min_bytes))

    failures: list[tuple[str, str]] = []
    own_client = None
    if isinstance(dask_address, str):  # connect before the progress bar starts: a bad address fails fast
        own_client = dask_address = dask_client(dask_address)
    bar = Progress(
        TextColumn("[bold]batch"),
        BarColumn(),
        MofNCompleteColumn(),
        FilesPerSecondColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not progress or not tasks,
        transient=False,
    )
    source: Iterator[dict[str, Any]] | None = None
    analysis_s = 0.0
    try:
        with bar:
            bar_task = bar.add_task("batch", total=len(tasks))
            source = _dask_results(tasks, dask_address) if dask_address is not None else _pool_results(
                tasks, jobs or default_jobs())
            index_of = {t.key + "\0" + t.path: t.index for t in tasks}
            for row in source:
                rows[index_of[row["sha256"] + "\0" + row["file"]]] = row
                if journal is not None:
                    journal.record(row)
                if row["status"] not in DONE_STATUSES:
                    failures.append((row["file"], row["error"]))
                    reason = row["error"]  # project errors already start with the file's path
                    line = reason if reason.startswith(str(row["file"])) else f"{row['file']}: {reason}"
                    bar.console.print(Text.assemble(("failed ", "red"), line))
                if on_row is not None:
                    on_row(row)
                bar.advance(bar_task)
            # the bar's own clock, so the summary's rate is the rate the bar showed last
            done_task = next(t for t in bar.tasks if t.id == bar_task)
            analysis_s = (done_task.finished_time if done_task.finished else done_task.elapsed) or 0.0
    finally:
        if source is not None:
            source.close()  # stops the pool / cancels Dask futures at once on Ctrl-C
        if journal is not None:
            journal.close()
        if own_client is not None:
            own_client.close()
    final = [r for r in rows if r is not None]
    if out_path is not None:
        fingerprint = results_fingerprint(final)
        if tasks or journal is None or not journal.results_unchanged(out_path, fingerprint):
            write_results(final, out_path)
            if journal is not None:
                journal.record_results(out_path, fingerprint)
                journal.close()
    order = {r["file"]: i for i, r in enumerate(final)}
    failures.sort(key=lambda f: order.get(f[0], len(order)))
    return BatchReport(rows=final, analysed=len(tasks), reused=reused, failures=failures,
                       elapsed_s=time.perf_counter() - started, analysis_s=analysis_s, out=out_path)
