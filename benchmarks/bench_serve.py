"""``magfw serve``: a month of STEREO-A 8 Hz RTN over HAPI ``/data`` in binary, against reading
the same CDFs directly, measured in the same run.

    python benchmarks/bench_serve.py [--out TREE] [--month 2024-01] [--repeat N] [--cold]

Setup (not timed): the month's L1 products in TREE (``magfw run stereo l1 MONTH --spacecraft A
--source simulated`` when the tree has none yet). ``--cold`` removes the server's caches
(``TREE/.magfw/serve``) first, so that the first request of each span makes the files' time
indexes and time text as a new server over a new tree does.

- direct: every day's ``STA_L1_MAG_RTN_*.cdf`` read with :func:`magfw.io.cdf.read_cdf`
  (``Epoch`` and ``BFIELD``, no variable attributes), the Epoch turned into TT2000 as a user
  must to use it (:func:`magfw.geometry.time.tt2000_from_cdf_epoch`); best of ``--repeat``;
- served: ``magfw serve`` started in its own process for each span (1, 7 and all days of the
  month; the server learns every dataset's first and last records before it listens), a
  client streaming ``/hapi/data?dataset=STA_L1_MAG_RTN&parameters=BFIELD&format=binary``
  (no gzip) as the bytes arrive and counting records (27-byte time + 4 doubles each): time
  to the first byte and the whole, the first request of the server (its SHA-256 checks of
  the files, and with ``--cold`` the time indexes) and the best of ``--repeat`` more.

``curl -o /dev/null`` then fetches each span ``--repeat`` times: the server with a client
that costs next to nothing (on two cores the Python client takes one of them).

Memory: the server's resident memory (VmRSS) before the request and its peak while the month
streams, sampled every 20 ms from another thread. Prints the rows and the served / direct
ratio of the best month.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

RECORD_BYTES = 27 + 4 * 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def month_files(out: Path, month: str) -> list[Path]:
    return sorted(
        out.glob(f"l1_final_cdf/rtn/Afgy{month[:4]}/STA_L1_MAG_RTN_{month.replace('-', '')}*_V*.cdf")
    )


def ensure_month(out: Path, month: str) -> list[Path]:
    if len(month_files(out, month)) < 28:
        run = ["magfw", "run", "stereo", "l1", month, "--spacecraft", "A", "--source", "simulated"]
        subprocess.run([sys.executable, "-m", *run, "--out", str(out)], check=True)
    return month_files(out, month)


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


def vm(pid: int, key: str = "VmRSS") -> float:
    """VmRSS / VmHWM of a process in MiB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, out: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "MAGFW_SERVE_TOKEN": ""}
        cmd = ["serve", "--out", str(out), "--port", str(self.port), "--max-records", "40000000"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "magfw", *cmd, "--timeout", "3600"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 600
        while True:
            try:
                httpx.get(self.url + "/hapi/capabilities", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("magfw serve did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def served(server: Server, start: date, stop: date) -> tuple[int, float, float, float, float]:
    """(records, seconds to the first byte, seconds in all, RSS before, peak RSS while
    streaming, MiB)."""
    url = (
        f"{server.url}/hapi/data?dataset=STA_L1_MAG_RTN&parameters=BFIELD&format=binary"
        f"&start={start}T00:00:00Z&stop={stop}T00:00:00Z"
    )
    before = vm(server.proc.pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], vm(server.proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    nbytes, first = 0, None
    t0 = time.perf_counter()
    try:
        with httpx.stream("GET", url, headers={"Accept-Encoding": "identity"}, timeout=3600) as r:
            r.raise_for_status()
            for chunk in r.iter_raw():  # the bytes as they arrive (no re-chunking)
                if first is None:
                    first = time.perf_counter() - t0
                nbytes += len(chunk)
    finally:
        done.set()
        sampler.join()
    total = time.perf_counter() - t0
    assert nbytes % RECORD_BYTES == 0, nbytes
    return nbytes // RECORD_BYTES, first or total, total, before, peak[0]


def curl(server: Server, start: date, stop: date) -> float | None:
    """Seconds ``curl -o /dev/null`` takes for the span (None without curl): the server
    with a client that costs next to nothing."""
    exe = shutil.which("curl")
    if exe is None:
        return None
    url = (
        f"{server.url}/hapi/data?dataset=STA_L1_MAG_RTN&parameters=BFIELD&format=binary"
        f"&start={start}T00:00:00Z&stop={stop}T00:00:00Z"
    )
    t0 = time.perf_counter()
    subprocess.run([exe, "-s", "-o", "/dev/null", url], check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("bench-serve-data"))
    ap.add_argument("--month", default="2024-01")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--cold", action="store_true", help="remove TREE/.magfw/serve first")
    args = ap.parse_args()
    files = ensure_month(args.out, args.month)
    first = date.fromisoformat(args.month + "-01")
    end = (first + timedelta(days=32)).replace(day=1)
    print(f"{len(files)} daily CDFs of STA_L1_MAG_RTN in {args.out}")
    n_direct, t_direct = min((direct(files) for _ in range(args.repeat)), key=lambda r: r[1])
    rate_direct = n_direct / t_direct
    print(
        f"direct read_cdf + Epoch->TT2000: {n_direct:,} records in {t_direct:.2f} s = "
        f"{rate_direct:,.0f} records/s"
    )
    best_month = 0.0
    for days in (1, 7, (end - first).days):
        if args.cold:
            shutil.rmtree(args.out / ".magfw" / "serve", ignore_errors=True)
        t0 = time.perf_counter()
        server = Server(args.out)
        start_s = time.perf_counter() - t0
        try:
            stop = first + timedelta(days=days)
            runs = [served(server, first, stop) for _ in range(1 + args.repeat)]
            by_curl = [curl(server, first, stop) for _ in range(args.repeat)]
        finally:
            server.stop()
        for label, (n, ttfb, total, before, peak) in (
            ("first", runs[0]),
            ("best", min(runs[1:], key=lambda r: r[2])),
        ):
            print(
                f"served {days:2d} d ({label}): {n:,} records, first byte {ttfb:.2f} s, {total:.2f} s = "
                f"{n / total:,.0f} records/s; server RSS {before:.0f} -> {peak:.0f} MiB"
                + (f"; server ready {start_s:.1f} s after start" if label == "first" else "")
            )
        if by_curl and by_curl[0] is not None:
            best = min(t for t in by_curl if t is not None)
            print(
                f"served {days:2d} d (curl -o /dev/null, best): "
                f"{runs[0][0] / best:,.0f} records/s, {best:.2f} s"
            )
        best_month = max(r[0] / r[2] for r in runs[1:])
    print(
        f"\nmonth: served {best_month:,.0f} records/s vs direct {rate_direct:,.0f}: "
        f"ratio {best_month / rate_direct:.2f}"
    )


if __name__ == "__main__":
    main()
