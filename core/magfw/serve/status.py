"""HAPI 3.3 status codes (section 4.2), the errors that carry them and the answer they give.

Every error is a JSON HAPI header holding only the status, with the HTTP code the
specification pairs with it (``1406``/``1407`` are 404, the other 14xx 400, 15xx 500; a busy
server says 1500 with 503). Messages are the specification's, with a detail after a colon
that never echoes the offending value.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

HAPI_VERSION = "3.3"
MESSAGES = {
    1200: "OK",
    1201: "OK - no data for time range",
    1400: "Bad request - user input error",
    1401: "Bad request - unknown API parameter name",
    1402: "Bad request - syntax error in start time",
    1403: "Bad request - syntax error in stop time",
    1404: "Bad request - start equal to or after stop",
    1405: "Bad request - start < startDate and/or stop > stopDate",
    1406: "Bad request - unknown dataset id",
    1407: "Bad request - unknown dataset parameter",
    1408: "Bad request - too much time or data requested",
    1409: "Bad request - unsupported output format",
    1410: "Bad request - unsupported include value",
    1411: "Bad request - out-of-order or duplicate parameters",
    1412: "Bad request - unsupported resolve_references value",
    1413: "Bad request - unsupported depth value",
    1500: "Internal server error",
    1501: "Internal server error - upstream request error",
}
HTTP_OF = {1200: 200, 1201: 200, 1406: 404, 1407: 404, 1500: 500, 1501: 500}
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
}


class HapiError(Exception):
    """A request HAPI answers with an error status (``http``: another HTTP code than the
    one the specification pairs with ``code``, e.g. 503 for a busy server)."""

    def __init__(self, code: int, detail: str = "", http: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.http = http


def status(code: int, detail: str = "") -> dict[str, Any]:
    message = MESSAGES[code] + (f": {detail}" if detail else "")
    return {"code": code, "message": message}


def error_response(code: int, detail: str = "", http: int | None = None) -> JSONResponse:
    """A JSON HAPI header with only the status (what every error returns)."""
    headers = dict(CORS)
    if http == 503:
        headers["Retry-After"] = "10"
    return JSONResponse(
        {"HAPI": HAPI_VERSION, "status": status(code, detail)},
        status_code=http or HTTP_OF.get(code, 400),
        headers=headers,
    )
