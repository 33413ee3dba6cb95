"""magfw's fixtures for plugin authors: magfw_hooks, magfw_run, magfw_cli."""

pytest_plugins = ["magfw.testing"]
