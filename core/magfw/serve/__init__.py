"""``magfw serve``: the products of an output tree over HAPI 3.3, and a review site.

Imported only when the ``serve`` command runs (the core's start-up stays lean). Modules:
``settings`` (options), ``datasets`` (HAPI datasets from product definitions), ``holdings``
(the ledger as an index; consistent reading), ``reader`` (product files as HAPI values),
``timefmt``/``numfmt`` (vectorised time and number text), ``encode`` (csv/binary/json),
``hapi`` (the endpoints), ``quality`` and ``review`` (the review site), ``app`` (the ASGI
application, security and limits). See docs/serve.md.
"""

from __future__ import annotations

from magfw.serve.app import create_app, serve
from magfw.serve.settings import TOKEN_ENV, ServeSettings

__all__ = ["TOKEN_ENV", "ServeSettings", "create_app", "serve"]
