"""Real rclone remotes for the delivery tests, each configured the way an operator would without
a configuration file: ``RCLONE_CONFIG_<NAME>_<KEY>`` environment variables.

- :func:`alias_remote`: a folder of this machine (rclone's ``alias``/``local`` backend: every
  checksum, no shared links);
- :func:`served`: ``rclone serve sftp`` or ``rclone serve webdav`` over a folder on a free
  loopback port (SFTP keeps MD5 and SHA-1, as Box keeps SHA-1; rclone's WebDAV server keeps
  none: size only), with a user and a password (a canary the tests look for);
- :func:`s3_remote`: moto's S3 server on loopback, whose ``rclone link`` is a presigned URL
  (MD5 checksums, shared links: the remote kind Box is for magfw).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PASSWORD = "Rclone-canary-7f3a"  #: the served remotes' password: never in a log, mail or argv
SECRET_KEY = "S3-secret-canary-91c2"  #: the S3 remote's secret key


def need_rclone() -> str:
    """rclone's path, or skip saying how to get it."""
    found = shutil.which("rclone")
    if found is None:
        pytest.skip("rclone is not installed (tests/run installs Debian's rclone)")
    return found


def alias_remote(mp: pytest.MonkeyPatch, name: str, folder: Path) -> str:
    """Remote ``name:`` = ``folder`` (rclone's alias of a local folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    mp.setenv(f"RCLONE_CONFIG_{name.upper()}_TYPE", "alias")
    mp.setenv(f"RCLONE_CONFIG_{name.upper()}_REMOTE", str(folder))
    return f"{name}:"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen[bytes], limit_s: float = 15.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        if proc.poll() is not None:
            raise RuntimeError(f"rclone serve exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"rclone serve did not listen on {port} within {limit_s} s")


@contextlib.contextmanager
def served(kind: str, folder: Path) -> Iterator[int]:
    """``rclone serve KIND`` (sftp or webdav) over ``folder`` on a free loopback port, with user
    ``u`` and :data:`PASSWORD`; yields the port."""
    rclone = need_rclone()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [rclone, "serve", kind, str(folder), "--addr", f"127.0.0.1:{port}", "--user", "u"]
    argv += ["--pass", PASSWORD, "-q"]  # the test's own server: its password on its argv only
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def obscure(text: str) -> str:
    """rclone's obscured form of a password (what its configuration holds)."""
    return subprocess.run(
        [need_rclone(), "obscure", text], capture_output=True, text=True, check=True
    ).stdout.strip()


def served_remote(mp: pytest.MonkeyPatch, name: str, kind: str, port: int) -> str:
    """Remote ``name:`` on the loopback server of :func:`served`."""
    prefix = f"RCLONE_CONFIG_{name.upper()}_"
    mp.setenv(prefix + "TYPE", kind)
    if kind == "sftp":
        mp.setenv(prefix + "HOST", "127.0.0.1")
        mp.setenv(prefix + "PORT", str(port))
    else:
        mp.setenv(prefix + "URL", f"http://127.0.0.1:{port}/")
    mp.setenv(prefix + "USER", "u")
    mp.setenv(prefix + "PASS", obscure(PASSWORD))
    return f"{name}:"


@contextlib.contextmanager
def s3_remote(mp: pytest.MonkeyPatch, name: str, bucket: str = "deliveries") -> Iterator[str]:
    """Remote ``name:BUCKET`` on moto's S3 server (loopback); yields ``name:BUCKET``."""
    need_rclone()
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is a test extra")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        prefix = f"RCLONE_CONFIG_{name.upper()}_"
        for key, value in {
            "TYPE": "s3",
            "PROVIDER": "Other",
            "ENDPOINT": f"http://{host}:{port}",
            "REGION": "us-east-1",
            "ACCESS_KEY_ID": "AKIDMAGFWTEST",
            "SECRET_ACCESS_KEY": SECRET_KEY,
        }.items():
            mp.setenv(prefix + key, value)
        mp.delenv("AWS_CA_BUNDLE", raising=False)  # rclone's S3 client refuses one for plain http
        subprocess.run([need_rclone(), "-q", "mkdir", f"{name}:{bucket}"], check=True)
        yield f"{name}:{bucket}"
    finally:
        server.stop()
