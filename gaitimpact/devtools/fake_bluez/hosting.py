"""Ways to host the fake: a factory spec, a background thread, a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future as ConcurrentFuture
from typing import Any

from gaitimpact.devtools.fake_bluez.control import call_control
from gaitimpact.devtools.fake_bluez.model import FakeDevice, T
from gaitimpact.devtools.fake_bluez.objects import _maybe_await
from gaitimpact.devtools.fake_bluez.server import FakeBluez

Factory = Callable[[FakeBluez, dict[str, str]], "Iterable[FakeDevice] | None | Awaitable[Any]"]
"""A device factory: called with the fake and the --opt options; returns devices or adds them itself."""


def load_factory(spec: str) -> Factory:
    """Import a factory from "package.module:function"."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"factory must look like package.module:function, got {spec!r}")
    return getattr(importlib.import_module(module_name), attr)


async def apply_factory(
    fake: FakeBluez, factory: Factory | str, options: dict[str, str] | None = None
) -> None:
    """Run a factory (callable or "module:function") and add the devices it returns to the fake."""
    fn = load_factory(factory) if isinstance(factory, str) else factory
    result = await _maybe_await(fn(fake, dict(options or {})))
    for dev in result or ():
        fake.add_device(dev)


# ---------------------------------------------------------------------------------------------
# Hosting: in a background thread, or in a subprocess
# ---------------------------------------------------------------------------------------------


class FakeBluezThread:
    """Run a FakeBluez in a background thread with its own event loop (for synchronous tests).

        with DBusDaemon() as d, FakeBluezThread(d.address, demo_devices) as t:
            subprocess.run([...], env=bluez_env(d.address))
            t.call(lambda fake: fake.disconnect("C0:FF:EE:00:00:01", down_s=2))
    """

    def __init__(self, bus_address: str, factory: Factory | str | None = None,
                 options: dict[str, str] | None = None, start_timeout_s: float = 10.0,
                 **fake_kwargs: Any) -> None:
        self.bus_address = bus_address
        self.factory = factory
        self.options = options or {}
        self.start_timeout_s = start_timeout_s
        self.fake = FakeBluez(**fake_kwargs)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready: ConcurrentFuture[None] = ConcurrentFuture()
        self._stop_event: asyncio.Event | None = None

    def start(self) -> FakeBluezThread:
        """Start the thread and wait until the fake owns org.bluez and the factory has run."""
        self._thread = threading.Thread(target=self._main, name="fake-bluez", daemon=True)
        self._thread.start()
        self._ready.result(timeout=self.start_timeout_s)
        return self

    def _main(self) -> None:
        asyncio.run(self._amain())

    async def _amain(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        try:
            await self.fake.start(self.bus_address)
            if self.factory is not None:
                await apply_factory(self.fake, self.factory, self.options)
        except BaseException as exc:
            self._ready.set_exception(exc)
            await self.fake.stop()
            return
        self._ready.set_result(None)
        try:
            await self._stop_event.wait()
        finally:
            await self.fake.stop()

    def call(self, fn: Callable[[FakeBluez], T | Awaitable[T]], timeout_s: float = 10.0) -> T:
        """Run fn(fake) in the fake's loop (awaiting it if it returns an awaitable); return its result."""
        assert self.loop is not None, "not started"
        return asyncio.run_coroutine_threadsafe(self._call(fn), self.loop).result(timeout_s)

    async def _call(self, fn: Callable[[FakeBluez], Any]) -> Any:
        return await _maybe_await(fn(self.fake))

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the fake and join the thread."""
        if self.loop is not None and self._stop_event is not None and self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._stop_event.set)
            self._thread.join(timeout_s)
        self._thread = None

    def __enter__(self) -> FakeBluezThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeBluezProcess:
    """Run `python -m gaitimpact.devtools.fake_bluez` as a subprocess on an existing bus.

    Waits for its READY line; control it with `.control("Disconnect", address, 2.0)` etc. Its stderr
    (logs, a factory's traceback) goes to log_path (default: a temp file, quoted if it fails to start);
    its later stdout is drained so a chatty factory cannot block it. It dies with the parent (Linux).
    """

    def __init__(self, bus_address: str, factory: str = "gaitimpact.devtools.fake_bluez:demo_devices",
                 options: dict[str, str] | None = None, start_timeout_s: float = 15.0,
                 log_path: str | None = None) -> None:
        self.bus_address = bus_address
        self.factory = factory
        self.options = options or {}
        self.start_timeout_s = start_timeout_s
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._own_log: str | None = None
        self._drainer: threading.Thread | None = None

    def start(self) -> FakeBluezProcess:
        """Start the subprocess and wait (up to start_timeout_s) until it reports READY."""
        from gaitimpact.devtools.dbus_daemon import _die_with_parent

        cmd = [sys.executable, "-m", "gaitimpact.devtools.fake_bluez", "--bus", self.bus_address,
               "--factory", self.factory]
        for key, value in self.options.items():
            cmd += ["--opt", f"{key}={value}"]
        log_path = self.log_path
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix="gi-fake-bluez-", suffix=".log")
            os.close(fd)
            self._own_log = log_path
        with open(log_path, "ab") as stderr:
            self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr,
                                            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + self.start_timeout_s
        buf = b""
        while b"READY" not in buf:
            remaining = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(0.0, remaining))[0] if remaining > 0 else []
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                with open(log_path, "rb") as log_file:
                    tail = log_file.read().decode(errors="replace")[-1500:]
                self.stop()
                why = "timed out" if not ready else f"exited: {buf.decode(errors='replace')!r}"
                raise RuntimeError(f"fake BlueZ process did not start ({why}); its stderr: {tail.strip()}")
            buf += chunk
        self._drainer = threading.Thread(target=self._drain, args=(self.process,), name="fake-bluez-stdout",
                                         daemon=True)
        self._drainer.start()
        return self

    @staticmethod
    def _drain(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(Exception):
            while process.stdout is not None and process.stdout.read(65536):
                pass

    def control(self, method: str, *args: Any) -> Any:
        """Call a FakeControl1 method (see _CONTROL_SIGNATURES), e.g. control("DropNext", address, 3)."""
        return call_control(self.bus_address, method, *args)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s."""
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=3.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5.0)
        if self._drainer is not None:
            self._drainer.join(timeout=2.0)
            self._drainer = None
        if proc.stdout is not None:
            proc.stdout.close()
        if self._own_log is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._own_log)
            self._own_log = None

    def __enter__(self) -> FakeBluezProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# Self-test: real bleak against the demo device, with figures
# ---------------------------------------------------------------------------------------------


