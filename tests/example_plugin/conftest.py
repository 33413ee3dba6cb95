pytest_plugins = ["magfw.testing"]
