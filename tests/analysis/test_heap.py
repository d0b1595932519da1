"""The heap setting of analysing processes (glibc mallopt through ctypes)."""

from __future__ import annotations

import platform
import sys

from gaitimpact.analysis.heap import keep_freed_memory


def test_freed_memory_is_kept_on_glibc_linux_and_the_call_is_idempotent() -> None:
    first = keep_freed_memory()
    assert keep_freed_memory() is first
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert first is True


def test_the_cli_sets_it_before_running_a_command(monkeypatch, tmp_path) -> None:
    import gaitimpact.analysis.heap as heap
    from gaitimpact.cli.main import main

    calls: list[int] = []
    monkeypatch.setattr(heap, "keep_freed_memory", lambda: calls.append(1) or True)
    assert main(["simulate", "--placement", "waist", "--duration", "5", "--out", str(tmp_path / "s.csv")]) == 0
    assert calls == [1]
