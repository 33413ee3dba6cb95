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
