"""The wheel carries every data file the code reads (schemas, kernels, packet definitions)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA_SUFFIXES = {".yaml", ".yml", ".json", ".tf", ".tpc", ".shc", ".tsc"}


@pytest.mark.slow  # builds a wheel (2 s)
def test_wheel_contains_all_package_data(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("magfw-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    mapping = {
        "core/magfw": "magfw",
        "schemas/magfw_schemas": "magfw_schemas",
        "plugins/stereo/magfw_stereo": "magfw_stereo",
        "plugins/aditya/magfw_aditya": "magfw_aditya",
        "plugins/plastic/magfw_plastic": "magfw_plastic",
    }
    missing = []
    for folder, package in mapping.items():
        for f in (ROOT / folder).rglob("*"):
            if (
                f.is_file()
                and (f.suffix in DATA_SUFFIXES or f.suffix == ".py")
                and "__pycache__" not in f.parts
            ):
                inside = f"{package}/{f.relative_to(ROOT / folder).as_posix()}"
                if inside not in names:
                    missing.append(inside)
    assert not missing, f"not in the wheel: {missing}"
