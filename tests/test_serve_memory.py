"""Memory of ``magfw serve`` on a monthly product: a whole-month binary request of the review
merge of eight days of STEREO-A 8 Hz L1 (a 180 MB CDF) keeps the server's resident memory
growth under a third of the file's size: the stream reads the month chunk by chunk and sends
it piece by piece, whatever the file's length (docs/serve.md has the figure for a full month).

The server runs as ``magfw serve`` in its own process; its VmRSS is sampled every 20 ms while
a client streams the month, after a first short request has opened the file once (its
SHA-256 checked, its time index made)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from magfw.api import parse_period
from magfw.engine.simulation import ensure_simulated
from magfw.plugin.manager import get_hooks
from magfw.testing import run_level

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
RECORD = 27 + 4 * 8 + 8 + 8  # time, BFIELD, MAGFLAGUC and FILTER_VALUE as doubles


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("merge") / "out"
    hooks = get_hooks()
    period = "2024-01-01..2024-01-08"
    ensure_simulated(hooks, "stereo", parse_period(period), out, "A", 0)
    assert run_level(hooks, "stereo", "l1", period, out, spacecraft="A", workers=2).ok
    assert run_level(hooks, "stereo", "merge", period, out, spacecraft="A").ok
    (review,) = out.glob("l1_final_cdf/merge_cdf_for_review/STA_L1_MAG_RTN_202401_REVIEW_V*.cdf")
    return out, review


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def test_a_whole_month_request_grows_the_server_by_less_than_a_third_of_the_file(merged):
    out, review = merged
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "MAGFW_SERVE_TOKEN"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "magfw", "serve", "--out", str(out), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/hapi"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/capabilities", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, "magfw serve did not start"
                time.sleep(0.2)
        q = f"{url}/data?dataset=STA_L1_MAG_RTN_REVIEW&format=binary&start=2024-01-01&stop=2024-02-01"
        assert httpx.get(q.replace("2024-02-01", "2024-01-01T01:00"), timeout=300).status_code == 200
        time.sleep(0.5)
        before = _rss_mib(proc.pid)
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_mib(proc.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        nbytes = 0
        try:
            with httpx.stream("GET", q, timeout=600, headers={"Accept-Encoding": "identity"}) as r:
                assert r.status_code == 200
                for piece in r.iter_raw():
                    nbytes += len(piece)
        finally:
            done.set()
            sampler.join()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    size_mib = review.stat().st_size / 2**20
    growth = peak[0] - before
    print(
        f"\nmerge {size_mib:.0f} MiB, streamed {nbytes / 2**20:.0f} MiB; "
        f"RSS {before:.0f} -> {peak[0]:.0f} MiB"
    )
    assert nbytes % RECORD == 0 and nbytes // RECORD > 8 * 691_000  # every record of the eight days
    assert growth < size_mib / 3, f"server grew {growth:.0f} MiB for a {size_mib:.0f} MiB file"
