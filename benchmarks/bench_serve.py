"""``magfw serve``: a month of STEREO-A 8 Hz RTN over HAPI ``/data`` in binary, against reading
the same CDFs directly, measured in the same run.

    python benchmarks/bench_serve.py [--out TREE] [--month 2024-01] [--repeat N]

Setup (not timed): the month's L1 products in TREE (``magfw run stereo l1 MONTH --spacecraft A
--source simulated`` when the tree has none yet).

- direct: every day's ``STA_L1_MAG_RTN_*.cdf`` read with :func:`magfw.io.cdf.read_cdf`
  (``Epoch`` and ``BFIELD``, no variable attributes), the Epoch turned into TT2000 as a user
  must to use it (:func:`magfw.geometry.time.tt2000_from_cdf_epoch`);
- served: ``magfw serve`` started in its own process, a client streaming
  ``/hapi/data?dataset=STA_L1_MAG_RTN&parameters=BFIELD&format=binary`` for the month (no gzip)
  and counting records (27-byte time + 4 doubles each); time to the first byte and the whole.

Memory: the server's peak resident memory (VmHWM, each span in a freshly started server) for
spans of 1, 7 and all days of the month: flat means the stream holds one day at a time.
Prints a table and the served / direct rate ratio.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

RECORD_BYTES = 27 + 4 * 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_month(out: Path, month: str) -> list[Path]:
    files = sorted(
        out.glob(f"l1_final_cdf/rtn/Afgy{month[:4]}/STA_L1_MAG_RTN_{month.replace('-', '')}*_V*.cdf")
    )
    if len(files) < 28:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "magfw",
                "run",
                "stereo",
                "l1",
                month,
                "--spacecraft",
                "A",
                "--source",
                "simulated",
                "--out",
                str(out),
            ],
            check=True,
        )
        files = sorted(
            out.glob(f"l1_final_cdf/rtn/Afgy{month[:4]}/STA_L1_MAG_RTN_{month.replace('-', '')}*_V*.cdf")
        )
    return files


def direct(files: list[Path]) -> tuple[int, float]:
    from magfw.geometry.time import tt2000_from_cdf_epoch
    from magfw.io.cdf import read_cdf

    n = 0
    t0 = time.perf_counter()
    for f in files:
        d = read_cdf(f, ["Epoch", "BFIELD"], attributes=False)
        tt = tt2000_from_cdf_epoch(d.variables["Epoch"])
        n += int(tt.shape[0]) + 0 * int(d.variables["BFIELD"].shape[0])
    return n, time.perf_counter() - t0


def vm(pid: int, key: str) -> float:
    """VmHWM / VmRSS of a process in MiB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, out: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "MAGFW_SERVE_TOKEN": ""}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "magfw",
                "serve",
                "--out",
                str(out),
                "--port",
                str(self.port),
                "--max-records",
                "40000000",
                "--timeout",
                "3600",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/hapi/capabilities", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("magfw serve did not start") from None
                time.sleep(0.2)
        # the server learns every dataset's first and last records at start: wait for it
        httpx.get(self.url + "/hapi/catalog?depth=all", timeout=3600).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def served(server: Server, start: date, stop: date) -> tuple[int, float, float, float]:
    """(records, seconds to the first byte, seconds in all, peak RSS MiB while streaming)."""
    url = (
        f"{server.url}/hapi/data?dataset=STA_L1_MAG_RTN&parameters=BFIELD&format=binary"
        f"&start={start}T00:00:00Z&stop={stop}T00:00:00Z"
    )
    nbytes, first, rss = 0, None, 0.0
    t0 = time.perf_counter()
    last_sample = t0
    with httpx.stream("GET", url, headers={"Accept-Encoding": "identity"}, timeout=3600) as r:
        r.raise_for_status()
        for chunk in r.iter_raw():  # the bytes as they arrive (no re-chunking)
            if first is None:
                first = time.perf_counter() - t0
            nbytes += len(chunk)
            if time.perf_counter() - last_sample > 0.2:
                rss = max(rss, vm(server.proc.pid, "VmRSS"))
                last_sample = time.perf_counter()
    total = time.perf_counter() - t0
    assert nbytes % RECORD_BYTES == 0, nbytes
    return nbytes // RECORD_BYTES, first or total, total, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("bench-serve-data"))
    ap.add_argument("--month", default="2024-01")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    files = ensure_month(args.out, args.month)
    first = date.fromisoformat(args.month + "-01")
    end = (first + timedelta(days=32)).replace(day=1)
    print(f"{len(files)} daily CDFs of STA_L1_MAG_RTN in {args.out}")

    best_direct = min((direct(files) for _ in range(args.repeat)), key=lambda r: r[1])
    n_direct, t_direct = best_direct
    print(
        f"direct read_cdf + Epoch->TT2000: {n_direct:,} records in {t_direct:.2f} s = "
        f"{n_direct / t_direct:,.0f} records/s"
    )

    rows = []
    for days in (1, 7, (end - first).days):
        server = Server(args.out)
        try:
            base = vm(server.proc.pid, "VmRSS")
            runs = [
                served(server, first, first + timedelta(days=days))
                for _ in range(args.repeat if days > 7 else 1)
            ]
            n, ttfb, total, rss = min(runs, key=lambda r: r[2])
            hwm = vm(server.proc.pid, "VmHWM")
        finally:
            server.stop()
        rows.append((days, n, ttfb, total, n / total, base, hwm))
        print(
            f"served {days:2d} d: {n:,} records, first byte {ttfb:.2f} s, {total:.2f} s = "
            f"{n / total:,.0f} records/s; server RSS at start {base:.0f} MiB, peak {hwm:.0f} MiB"
        )
    month = rows[-1]
    print(
        f"\nmonth: served {month[4]:,.0f} records/s vs direct {n_direct / t_direct:,.0f} "
        f"records/s: ratio {month[4] / (n_direct / t_direct):.2f}; peak server memory "
        f"{rows[0][6]:.0f} / {rows[1][6]:.0f} / {rows[2][6]:.0f} MiB for 1 / 7 / "
        f"{rows[2][0]} days"
    )


if __name__ == "__main__":
    main()
