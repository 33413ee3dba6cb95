"""Helpers of the ``magfw serve`` tests: a real uvicorn server on a free loopback port, run
in a thread of the test process, and the official HAPI 3.3 JSON Schema as validators."""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
HAPI_SCHEMA = ROOT.parent / "shared" / "hapi" / "HAPI-data-access-schema-3.3.json"
#: A copy kept in the tests, for machines without ../shared (the same file, commit e284675).
HAPI_SCHEMA_COPY = Path(__file__).parent / "data" / "HAPI-data-access-schema-3.3.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(app: Any, **config: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _schema_document() -> dict[str, Any]:
    path = HAPI_SCHEMA if HAPI_SCHEMA.exists() else HAPI_SCHEMA_COPY
    if not path.exists():
        pytest.skip(f"HAPI schema not found at {HAPI_SCHEMA}")
    doc = json.loads(path.read_text())

    def fix(node: Any) -> Any:  # the schema refers by id ("/HAPI"): make them JSON pointers
        if isinstance(node, dict):
            return {
                k: ("#" + v if k == "$ref" and isinstance(v, str) and v.startswith("/") else fix(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return dict(fix(doc))


def validate(kind: str, body: dict[str, Any]) -> None:
    """Validate a response against the schema's ``kind`` (about, capabilities, catalog, info,
    error); a failure names the path and the problem."""
    import jsonschema

    doc = copy.deepcopy(_schema_document())
    doc["$ref"] = f"#/{kind}"
    jsonschema.Draft7Validator(doc).validate(body)


@contextmanager
def prefix_proxy(upstream: str, prefix: str) -> Iterator[str]:
    """A reverse proxy as docs/serve.md's nginx block sets one up: requests for ``prefix/...``
    are sent to ``upstream`` as ``/...`` (the prefix stripped, the Host kept), answers
    streamed back as they come, redirects passed on unchanged. Yields the proxy's URL with
    the prefix."""
    import httpx
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    hop = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"te", b"upgrade"}
    client = httpx.AsyncClient(base_url=upstream, timeout=120)

    async def forward(request: Request) -> Response:
        path = request.url.path
        if path != prefix and not path.startswith(prefix + "/"):
            return Response("outside the proxied prefix", 404)
        target = (path[len(prefix) :] or "/") + (f"?{request.url.query}" if request.url.query else "")
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in hop]
        upstream_request = client.build_request(
            request.method, target, headers=headers, content=await request.body()
        )
        answer = await client.send(upstream_request, stream=True, follow_redirects=False)
        response = StreamingResponse(
            answer.aiter_raw(), status_code=answer.status_code, background=BackgroundTask(answer.aclose)
        )
        response.raw_headers = [(k, v) for k, v in answer.headers.raw if k.lower() not in hop]
        return response

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", forward, methods=methods)])
    with running_server(app) as url:
        yield url + prefix
