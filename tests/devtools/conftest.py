"""Fixtures: a private dbus-daemon per test (always killed) with bleak's environment pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from gaitimpact.devtools.dbus_daemon import DBusDaemon, bluez_env

T = TypeVar("T")


@pytest.fixture
def dbus_daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[DBusDaemon]:
    """A fresh private dbus-daemon; DBUS_SYSTEM_BUS_ADDRESS and PATH (bluetoothctl stand-in) point to it."""
    daemon = DBusDaemon()
    try:
        daemon.start()
        env = bluez_env(daemon.address)
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", env["DBUS_SYSTEM_BUS_ADDRESS"])
        monkeypatch.setenv("PATH", env["PATH"])
        yield daemon
    finally:
        daemon.stop()


def _run(coro: Awaitable[T], timeout_s: float = 20.0) -> T:
    """Run a coroutine in a fresh event loop (fresh bleak BlueZ manager), failing after timeout_s."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout_s)

    return asyncio.run(bounded())


@pytest.fixture
def run() -> Callable[..., Any]:
    """run(coro, timeout_s=20): the coroutine in a fresh event loop with a hard timeout."""
    return _run
