"""Downloads of recorded files: ``/files/PATH`` serves PATH only if it is exactly an output of
a unit's latest successful run, its content checked against the ledger's SHA-256 through the
open descriptor (:meth:`Holdings.open_recorded`); anything else (``..``, the ledger, a file
the ledger does not list) is 404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from magfw.serve.holdings import Holdings


async def recorded_file(h: Holdings, request: Request) -> Response:
    """The recorded file ``path`` of the request, streamed in 1 MiB pieces."""
    rel = request.path_params["path"]
    opened = await anyio.to_thread.run_sync(h.open_recorded, rel)
    if opened is None:
        return Response("not a recorded output of this tree", 404, media_type="text/plain")
    ref, fh = opened
    headers = {
        "ETag": f'"{ref.sha256[:32]}"',
        "Content-Length": str(ref.size),
        "Content-Disposition": f'attachment; filename="{Path(ref.rel).name}"',
    }
    if request.method == "HEAD":
        fh.close()
        return Response(b"", media_type="application/octet-stream", headers=headers)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while True:
                data = await anyio.to_thread.run_sync(fh.read, 1 << 20)
                if not data:
                    break
                yield data
        finally:
            fh.close()

    return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)
