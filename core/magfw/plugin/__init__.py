"""The plugin contract: hook specifications, missions and levels, the unit context, product
definitions, and the manager that loads plugins and calls them. Plugins import it through
:mod:`magfw.api`."""
