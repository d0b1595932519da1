"""Simulated sensors on the fake BlueZ: the gaitimpact open profile and a Polar H10 (PMD), streaming the
project's simulator signal at real rates and packet sizes.

Run by hand (starts its own dbus-daemon and prints the environment to use)::

    python -m gaitimpact.devtools.fake_bluez --factory gaitimpact.devtools.sim_sensor:sim_devices \
        --opt devices=gaitimpact,polar --opt fs_hz=1000 --opt placement=shoe
    # then: gaitimpact scan ; gaitimpact record --out run.csv --duration 20

Options (--opt key=value): devices (comma list of gaitimpact, polar, other), fs_hz, polar_fs_hz,
polar_model (h10: raw frames, default; verity: Verity Sense, 52 Hz delta-compressed frames), placement,
speed_mps, duration_s (signal length; it loops), seed, drift_ppm (device crystal error), seq_start,
clock_start_s (device clock at power-on, s), log_dir (per-device send log + signal for tests), battery,
cache_dir (keep simulated signals there between runs).

The sensor samples on its own crystal: sample i is taken at host time T0 + i (1 + drift) / fs and stamped
with device time clock_start + i / fs. While the central is subscribed and has started the stream, every
packet of `samples_per_packet` samples is notified; DropNext/CorruptNext/Disconnect/Vanish come from the
fake BlueZ's fault control (a dropped packet still advances the sequence number, like a radio loss).
Samples taken while the link is down are never sent. The send log (JSON lines: seq, i0, n, delivered,
host_unix_s) lets tests compare the file with what was sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from gaitimpact.ble.profiles import gaitimpact_open, polar_pmd
from gaitimpact.ble.profiles.base import PacketError
from gaitimpact.devtools.fake_bluez import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    FakeBluez,
    FakeCharacteristic,
    FakeDevice,
    FakeService,
)

POLAR_MODELS = {"h10": "H10", "verity": "Verity Sense"}
"""polar_model option -> simulated Polar model (answers byte for byte like that sensor)."""
ADDRESSES = {"gaitimpact": "C0:FF:EE:00:10:01", "polar": "A0:9E:1A:00:00:01", "other": "C0:FF:EE:00:99:01"}
NAMES = {"gaitimpact": "GI-Sensor", "polar": "Polar H10 1A2B3C4D", "other": "HR-Strap"}
HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
HEART_RATE_MEAS_UUID = "00002a37-0000-1000-8000-00805f9b34fb"


def simulated_signal(
    placement: str, fs_hz: float, duration_s: float, speed_mps: float, seed: int, range_g: float | None = None
) -> tuple[np.ndarray, Any]:
    """(N, 3) g samples of a run from the project's simulator (a short stand and a run), and its truth."""
    from gaitimpact.sim import SimConfig, SimSegment, simulate

    cfg = SimConfig(
        placement=placement,
        fs_hz=fs_hz,
        seed=seed,
        noise_g=0.02,
        range_g=range_g,
        segments=[
            SimSegment(2.0, "stand", 0.0, "asphalt"),
            SimSegment(max(duration_s - 2.0, 5.0), "run", speed_mps, "asphalt"),
        ],
    )
    res = simulate(cfg)
    return np.asarray(res.recording.acc_g, dtype=np.float64), res.truth


def cached_signal(
    placement: str,
    fs_hz: float,
    duration_s: float,
    speed_mps: float,
    seed: int,
    range_g: float,
    cache_dir: Path | None,
) -> tuple[np.ndarray, dict]:
    """`simulated_signal` and its truth (ic_time_s, peak_g, cadence_spm), kept in `cache_dir` when given
    (tests start many simulated sensors with the same signal; written atomically, safe across processes)."""
    key = f"{placement}_{fs_hz:g}_{duration_s:g}_{speed_mps:g}_{seed}_{range_g:g}.npz"
    if cache_dir is not None and (cache_dir / key).exists():
        with np.load(cache_dir / key) as z:
            cad = float(z["cadence_spm"])
            return z["signal"], {
                "ic_time_s": z["ic_time_s"].tolist(),
                "peak_g": z["peak_g"].tolist(),
                "cadence_spm": None if np.isnan(cad) else cad,
            }
    signal_g, truth = simulated_signal(placement, fs_hz, duration_s, speed_mps, seed, range_g)
    cad = float(np.nanmean(truth.cadence_spm)) if np.size(truth.cadence_spm) else float("nan")
    info = {
        "ic_time_s": np.asarray(truth.ic_time_s, dtype=float).tolist(),
        "peak_g": np.asarray(truth.peak_g, dtype=float).tolist(),
        "cadence_spm": None if np.isnan(cad) else cad,
    }
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".{key}.{os.getpid()}.npz"
        np.savez(tmp, signal=signal_g, ic_time_s=info["ic_time_s"], peak_g=info["peak_g"], cadence_spm=cad)
        os.replace(tmp, cache_dir / key)
    return signal_g, info


class SimSensor:
    """One simulated peripheral speaking `server` (a profile's SimServer) with a simulated signal."""

    def __init__(
        self,
        fake: FakeBluez,
        name: str,
        kind: str,
        server: Any,
        signal_g: np.ndarray,
        fs_hz: float,
        *,
        drift_ppm: float,
        clock_start_s: float,
        log_dir: Path | None,
        battery_pct: int,
    ) -> None:
        self.fake = fake
        self.kind = kind
        self.server = server
        self.server.fs_hz = float(fs_hz)
        self.signal = signal_g
        self.drift = drift_ppm * 1e-6
        self.clock_start_s = clock_start_s
        self.t0_host = time.monotonic()
        self.next_i = 0
        self.sent = self.delivered = 0
        self._task: asyncio.Task[None] | None = None
        self.muted = False
        self._log = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            self._log = open(log_dir / f"{kind}.sent.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        chars: list[FakeService] = []
        self.data_uuid = ""
        for svc_uuid, spec in server.gatt():
            cs = []
            for uuid, flags, value in spec:
                cs.append(
                    FakeCharacteristic(
                        uuid,
                        flags,
                        value=value,
                        # reads return the characteristic's own value (a PMD CP read is the feature list,
                        # whatever was last indicated on it)
                        on_read=(lambda v=value: v) if "read" in flags else None,
                        on_write=(lambda data, u=uuid: self._on_write(u, data)) if "write" in flags else None,
                    )
                )
                if flags == ["notify"]:
                    self.data_uuid = uuid
            chars.append(FakeService(svc_uuid, cs))
        chars.append(
            FakeService(
                BATTERY_SERVICE_UUID,
                [FakeCharacteristic(BATTERY_LEVEL_UUID, ["read", "notify"], value=bytes([battery_pct]))],
            )
        )
        advertised = [server.gatt()[0][0]] if kind == "gaitimpact" else [HEART_RATE_SERVICE_UUID]
        self.device = FakeDevice(
            address=ADDRESSES[kind],
            name=name,
            rssi=-50 if kind == "gaitimpact" else -65,
            services=chars,
            advertised_uuids=advertised,
            on_disconnect=lambda _d: self._link_lost(),
            corrupt=self._corrupt,
            commands={"sent": self._sent_cmd, "refuse_start": self._refuse_start, "mute": self._mute},
            mtu=247 if kind == "gaitimpact" else 232,
        )

    # ---------------------------------------------------------------- device behaviour
    def _corrupt(self, data: bytes) -> bytes:
        """Truncate to half; if that still happens to decode, cut into the header."""
        half = data[: len(data) // 2]
        dec = polar_pmd.Decoder(200, 8) if self.kind == "polar" else gaitimpact_open.Decoder(1000, 16)
        try:
            dec.decode(half)
        except PacketError:
            return half
        return data[:7]

    def _sent_cmd(self, _arg: str) -> str:
        return json.dumps(
            {
                "sent": self.sent,
                "delivered": self.delivered,
                "next_i": self.next_i,
                "fs_hz": self.server.fs_hz,
            }
        )

    def _refuse_start(self, arg: str) -> str:
        """Fault: the next N start commands are refused (a Polar sensor back in an odd state: status 12)."""
        if not hasattr(self.server, "refuse_starts"):
            raise ValueError(f"{self.kind} has no start answer to refuse")
        self.server.refuse_starts = int(arg or "1")
        return "ok"

    def _mute(self, arg: str) -> str:
        """Fault: accept start commands but send no samples, and stop sending on a running stream while the
        link stays up ("1"); behave again ("0")."""
        self.muted = arg != "0"
        return "ok"

    def _on_write(self, uuid: str, data: bytes) -> None:
        reply = self.server.on_write(uuid, bytes(data))
        for char_uuid, payload in reply.notify:
            self.fake.notify_nowait(self.device, char_uuid, payload)
        if reply.start is not None and self._task is None and not self.muted:
            self.next_i = self._samples_taken()
            self._task = asyncio.ensure_future(self._stream())
        if reply.stop:
            self._stop()

    def _link_lost(self) -> None:
        """The link dropped: the sensor stops streaming (a Polar sensor ends its measurement)."""
        link_lost = getattr(self.server, "link_lost", None)
        if link_lost is not None:
            link_lost()
        self._stop()

    def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        if self._log is not None:
            self._log.flush()

    def _samples_taken(self) -> int:
        """Samples the sensor has taken since power-on (its crystal runs 1 + drift slower than the host)."""
        return int((time.monotonic() - self.t0_host) * self.server.fs_hz / (1.0 + self.drift))

    async def _stream(self) -> None:
        """Notify every full packet of samples taken, on the sensor's own schedule."""
        fs = self.server.fs_hz
        n = self.server.samples_per_packet()
        period = n / fs
        total = self.signal.shape[0]
        while True:
            avail = self._samples_taken()
            while self.next_i + n <= avail:
                i0 = self.next_i
                idx = np.arange(i0, i0 + n) % total
                seq = getattr(self.server, "seq", None)
                pkt = self.server.encode(self.clock_start_s + i0 / fs, self.signal[idx])
                ok = not self.muted and self.fake.notify_nowait(self.device, self.data_uuid, pkt)
                self.sent += 1
                self.delivered += int(ok)
                if self._log is not None:
                    self._log.write(
                        json.dumps(
                            {"seq": seq, "i0": i0, "n": n, "delivered": ok, "host_unix_s": time.time()}
                        )
                        + "\n"
                    )
                self.next_i += n
            await asyncio.sleep(max(0.001, period * 0.5))


def sim_devices(fake: FakeBluez, options: dict[str, str]) -> list[FakeDevice]:
    """fake_bluez factory: simulated sensors (see module docstring for the options)."""
    kinds = [k.strip() for k in options.get("devices", "gaitimpact").split(",") if k.strip()]
    placement = options.get("placement", "shoe")
    duration_s = float(options.get("duration_s", "60"))
    speed = float(options.get("speed_mps", "3.5"))
    seed = int(options.get("seed", "1"))
    drift_ppm = float(options.get("drift_ppm", "40"))
    log_dir = Path(options["log_dir"]) if options.get("log_dir") else None
    battery = int(options.get("battery", "87"))
    out = []
    sensors: list[SimSensor] = []
    for kind in kinds:
        if kind == "other":
            out.append(
                FakeDevice(
                    address=ADDRESSES["other"],
                    name=NAMES["other"],
                    rssi=-70,
                    advertised_uuids=[HEART_RATE_SERVICE_UUID],
                    services=[
                        FakeService(
                            HEART_RATE_SERVICE_UUID, [FakeCharacteristic(HEART_RATE_MEAS_UUID, ["notify"])]
                        )
                    ],
                )
            )
            continue
        if kind == "gaitimpact":
            fs = float(options.get("fs_hz", "1000"))
            rates = tuple(r for r in (100, 200, 500, 1000) if r <= fs) or (int(fs),)
            server: Any = gaitimpact_open.SimServer(rates_hz=rates)
            server.seq = int(options.get("seq_start", "0")) % gaitimpact_open.SEQ_MODULUS
            clock_start = float(options.get("clock_start_s", "12.5"))
            range_g = 16.0
        elif kind == "polar":
            model = POLAR_MODELS[options.get("polar_model", "h10")]
            server = polar_pmd.SimServer(model=model)
            fs = float(options.get("polar_fs_hz", str(server.rates_hz[-1])))
            clock_start = 0.0
            range_g = 8.0
        else:
            raise ValueError(f"unknown simulated device kind {kind!r}")
        signal_g, truth = cached_signal(
            placement if kind == "gaitimpact" else "waist", fs, duration_s, speed, seed, range_g,
            Path(options["cache_dir"]) if options.get("cache_dir") else None,
        )
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            np.save(log_dir / f"{kind}.signal.npy", signal_g)
            (log_dir / f"{kind}.truth.json").write_text(json.dumps({"fs_hz": fs, **truth}))
        name = NAMES[kind] if kind != "polar" or server.model == "H10" else "Polar Sense 1A2B3C4D"
        sensor = SimSensor(
            fake,
            name,
            kind,
            server,
            signal_g,
            fs,
            drift_ppm=drift_ppm,
            clock_start_s=clock_start,
            log_dir=log_dir,
            battery_pct=battery,
        )
        out.append(sensor.device)
        sensors.append(sensor)
    t0 = time.monotonic()
    for sensor in sensors:  # one simulated world: sample i of every sensor is taken at the same moment
        sensor.t0_host = t0
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / "pid").write_text(str(os.getpid()))
    return out
