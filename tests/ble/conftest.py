"""BLE end-to-end fixtures: a private dbus-daemon, the fake BlueZ with simulated sensors in a subprocess
(`gaitimpact.devtools.sim_sensor`), and the real `gaitimpact` CLI run against them (bleak is never mocked)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ble_helpers import SIM_FACTORY, SimBench

from gaitimpact.devtools.dbus_daemon import DBusDaemon, find_dbus_daemon
from gaitimpact.devtools.fake_bluez import FakeBluezProcess


@pytest.fixture(scope="session")
def dbus_available() -> None:
    try:
        find_dbus_daemon()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def bus_address(dbus_available: None) -> Iterator[str]:
    """One private dbus-daemon per test process (per xdist worker); each test gets its own fake BlueZ."""
    with DBusDaemon() as daemon:
        yield daemon.address


@pytest.fixture(scope="session")
def sim_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Simulated signals kept between the tests of one process (a fake starts ~1 s faster)."""
    return tmp_path_factory.mktemp("sim_signals")


@pytest.fixture
def sim_bench(request: pytest.FixtureRequest, tmp_path: Path, bus_address: str, sim_cache: Path) -> Iterator[SimBench]:
    """Fake BlueZ with simulated sensors; options from `@pytest.mark.sim(devices=..., ...)`."""
    marker = request.node.get_closest_marker("sim")
    options = {"devices": "gaitimpact,polar,other", "duration_s": "30", "drift_ppm": "40", "cache_dir": str(sim_cache)}
    if marker is not None:
        options.update({k: str(v) for k, v in marker.kwargs.items()})
    log_dir = tmp_path / "sensor"
    options["log_dir"] = str(log_dir)
    fake = FakeBluezProcess(bus_address, factory=SIM_FACTORY, options=options, log_path=str(tmp_path / "fake.log"))
    with fake:
        yield SimBench(bus_address, fake, log_dir, tmp_path)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sim(**options): options for the simulated sensors of sim_bench")
