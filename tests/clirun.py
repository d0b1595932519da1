"""Run the `gaitimpact` command line for tests: in this process through `main()` (fast: no interpreter
start, no re-import of numpy/scipy/pandas) or, for the few end-to-end tests marked `e2e`, as a real process.

Both return a `subprocess.CompletedProcess` (returncode, stdout, stderr as text), so a test reads the same
either way. In process, an unexpected exception is not turned into a traceback on stderr: it fails the
test with its traceback, which is stricter than checking that stderr holds no "Traceback".
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from gaitimpact.cli.main import main


@contextlib.contextmanager
def _environment(env: dict | None, cwd: str | os.PathLike | None) -> Iterator[None]:
    """Temporarily replace os.environ with `env` and the working folder with `cwd` (None: unchanged)."""
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        if env is not None:
            os.environ.clear()
            os.environ.update(saved_env)
        os.chdir(saved_cwd)


def run_cli(*args: object, env: dict | None = None, cwd: str | os.PathLike | None = None
            ) -> subprocess.CompletedProcess:
    """`gaitimpact ARGS` through `main()` in this process: its exit code and what it wrote to stdout/stderr."""
    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    with _environment(env, cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            if isinstance(exc.code, str):
                err.write(exc.code + "\n")
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return subprocess.CompletedProcess(["gaitimpact", *argv], code, out.getvalue(), err.getvalue())


def run_cli_process(*args: object, env: dict | None = None, cwd: str | os.PathLike | None = None,
                    timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m gaitimpact ARGS` as a real process, as a user runs it (tests marked `e2e`)."""
    return subprocess.run([sys.executable, "-m", "gaitimpact", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)
