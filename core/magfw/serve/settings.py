"""``magfw serve`` settings: where, how much, and who may ask."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Environment variable holding the optional bearer token.
TOKEN_ENV = "MAGFW_SERVE_TOKEN"


@dataclass(frozen=True, kw_only=True)
class ServeSettings:
    """How the server runs. ``max_records`` bounds a ``/data`` request's span: the span may
    hold at most this many records at the dataset's cadence (32 M: a 31-day month of 8 Hz
    vectors is 21.4 M); datasets without a cadence are bounded by ``max_span_days``. A data
    stream holds a few chunks of ``chunk_mib`` at a time, whatever the span and file sizes;
    at most ``max_streams`` run at once."""

    out_dir: Path
    host: str = "127.0.0.1"
    port: int = 8765
    base_path: str = "/hapi"
    root_path: str = ""  #: the prefix a reverse proxy serves us under (uvicorn's root_path)
    token: str | None = None
    timeout_s: float = 600.0  #: a request (a whole data stream) is cut after this
    max_streams: int = 4  #: data streams and plot renderings at once; more wait
    queue_wait_s: float = 30.0  #: how long a request waits for a slot before 503
    max_connections: int = 64  #: uvicorn's limit_concurrency (503 beyond)
    max_records: int = 32_000_000
    max_span_days: int = 3660
    chunk_mib: int = 4  #: records read at once from a long file, in MiB as read (bounds memory)
    cache_gib: float = 20.0  #: most the caches in .magfw/serve may hold; least used go first
    max_renders: int = 2  #: figures drawn at once; more wait
    server_id: str = "magfw"
    contact: str = "the operator of this magfw output tree"

    @classmethod
    def from_env(cls, out_dir: Path, **kw: object) -> ServeSettings:
        token = os.environ.get(TOKEN_ENV) or None
        base = str(kw.pop("base_path", "/hapi") or "/hapi")
        base = "/" + base.strip("/")
        return cls(out_dir=Path(out_dir), token=token, base_path=base, **kw)  # type: ignore[arg-type]
