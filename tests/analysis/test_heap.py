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


def test_paused_gc_stops_the_collector_within_and_restores_it_after() -> None:
    import gc

    from gaitimpact.analysis.heap import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    with paused_gc(False):
        assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():  # a collector the caller had off stays off
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_bounded_command_runs_with_the_collector_paused_and_a_recorder_with_it_on(monkeypatch, tmp_path) -> None:
    import gc

    import gaitimpact.cli.simulate_cmd as simulate_cmd
    from gaitimpact.cli.main import GC_PAUSED, main

    seen: list[bool] = []
    real_run = simulate_cmd.run
    monkeypatch.setattr(simulate_cmd, "run", lambda args: seen.append(gc.isenabled()) or real_run(args))
    assert "simulate" in GC_PAUSED and not {"record", "batch", "report", "add"} & GC_PAUSED
    assert main(["simulate", "--placement", "waist", "--duration", "5", "--out", str(tmp_path / "s.csv")]) == 0
    assert seen == [False]
    assert gc.isenabled()  # as it was before main


def test_the_script_entry_exits_with_the_commands_code_collector_off_and_what_is_left_frozen(monkeypatch,
                                                                                          capsys) -> None:
    import gc

    import pytest

    from gaitimpact.cli.main import entry

    monkeypatch.setattr(sys, "argv", ["gaitimpact", "analyze", "no/such/file.csv"])
    try:
        with pytest.raises(SystemExit) as exited:
            entry()
        assert exited.value.code == 2
        assert gc.get_freeze_count() > 0
        assert not gc.isenabled()  # not turned back on for the exit (it would walk every object at once)
    finally:
        gc.unfreeze()  # this test process goes on
        gc.enable()
    assert "no/such/file.csv" in capsys.readouterr().err
