"""``magfw serve`` on an Aditya-L1 day (simulated), whose L1 level writes one netCDF per L0 tar:
2024-08-01 has two, and the second runs past midnight. The day page's quality counts every
file of the day (the records inside the day, and the rest apart), the HAPI data of the day is
those same records, ``startDate`` is the first record (not midnight) and the records after
midnight are served."""

from __future__ import annotations

from pathlib import Path

import h5py
import httpx
import numpy as np
import pytest
from serve_helpers import running_server, validate

from magfw.geometry.time import tt2000_from_iso, tt2000_from_unix
from magfw.plugin.manager import get_hooks
from magfw.serve.timefmt import format_hapi_time
from magfw.testing import run_level

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("aditya") / "out"
    assert run_level(get_hooks(), "aditya", "l1", "2024-08-01", out).ok
    return out


def test_a_day_of_several_l1_files_is_counted_and_served_whole(tree):
    from magfw.serve import ServeSettings, create_app

    files = sorted(tree.glob("L1_MAG*_V*.nc"))
    assert len(files) >= 2
    times = np.sort(np.concatenate([tt2000_from_unix(h5py.File(f, "r")["time"][...]) for f in files]))
    day0, day1 = int(tt2000_from_iso("2024-08-01T00:00:00")), int(tt2000_from_iso("2024-08-02T00:00:00"))
    inside = int(((times >= day0) & (times < day1)).sum())
    after = int((times >= day1).sum())
    assert after > 0  # the second file runs past midnight
    with running_server(create_app(ServeSettings(out_dir=tree))) as url:
        page = httpx.get(f"{url}/day/aditya/l1/-/2024-08-01", timeout=300).text
        assert f"{inside} of 675000" in page and f"{after} more outside the day" in page
        for f in files:
            assert f.name in page
        info = httpx.get(f"{url}/hapi/info?dataset=ADITYA_L1", timeout=60).json()
        validate("info", info)
        assert info["startDate"] == format_hapi_time(int(times[0]))
        assert info["stopDate"] == format_hapi_time(int(times[-1]))
        day = httpx.get(
            f"{url}/hapi/data?dataset=ADITYA_L1&parameters=B_yaw_mag1&start=2024-08-01&stop=2024-08-02",
            timeout=300,
        )
        assert len(day.text.splitlines()) == inside
        later = httpx.get(
            f"{url}/hapi/data?dataset=ADITYA_L1&parameters=B_yaw_mag1&start=2024-08-02&stop=2024-08-03",
            timeout=300,
        )
        assert later.status_code == 200 and len(later.text.splitlines()) == after
        month = httpx.get(f"{url}/review/aditya/2024-08", timeout=300).text
        assert "/figure/aditya/l1/-/2024-08.png" in month
        fig = httpx.get(f"{url}/figure/aditya/l1/-/2024-08.png", timeout=300)
        assert fig.status_code == 200 and fig.content[:4] == b"\x89PNG"
