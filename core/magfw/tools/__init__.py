"""The user tools beside the runner: ``magfw check``, ``magfw plot``, the xarray backend,
``magfw new-plugin`` and the API reference generator. None of them writes a product."""
