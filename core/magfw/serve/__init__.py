"""``magfw serve``: the products of an output tree over HAPI 3.3, and a review site.

Imported only when the ``serve`` command runs (the core's start-up stays lean). Modules:

- the tree: ``ledger`` (the ledger checked and opened read-only), ``holdings`` (the ledger as
  an index; verified reading), ``cache`` (``.magfw/serve``), ``settings``;
- datasets and their files: ``datasets`` (HAPI datasets from product definitions),
  ``records`` (record ranges of CDF, netCDF and flat files), ``reader`` (stored values and
  times as HAPI values), ``timeindex`` (a file's time index and time text), ``files``
  (verified opening with the index);
- HAPI: ``status`` (codes, errors), ``request`` (parameters), ``metadata`` (``info`` from the
  definition and the data), ``stream`` (the ``/data`` stream), ``encode``, ``timefmt``,
  ``numfmt`` (vectorised text), ``hapi`` (the endpoints);
- the review site: ``review`` (the pages), ``site`` (levels, months, figures), ``calendars``,
  ``ledgerviews``, ``quality``, ``flags``, ``monthfigure``, ``dayfigure``, ``downloads``;
- ``app`` (the ASGI application, security and limits). See docs/serve.md.
"""

from __future__ import annotations

from magfw.serve.app import create_app, serve
from magfw.serve.settings import TOKEN_ENV, ServeSettings

__all__ = ["TOKEN_ENV", "ServeSettings", "create_app", "serve"]
