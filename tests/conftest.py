"""Shared test fixtures: the example third-party plugin, real data, an isolated environment.

The example plugin is what ``magfw new-plugin example`` writes (the shipped template), made
once per session in a temporary folder and importable as ``magfw_example``: the plugin a
newcomer starts from is the one the tests exercise.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["magfw.testing"]

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"


def pytest_configure(config: pytest.Config) -> None:
    """Write the example plugin (``magfw new-plugin example``) and make it importable."""
    import shutil
    import tempfile

    from magfw.tools.scaffold import new_plugin

    parent = Path(tempfile.mkdtemp(prefix="magfw-example-plugin-"))
    config.add_cleanup(lambda: shutil.rmtree(parent, ignore_errors=True))
    path = new_plugin("example", parent)
    sys.path.append(str(path))  # after the project: its tests/ must not shadow ours
    config.stash[EXAMPLE_KEY] = path


EXAMPLE_KEY = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def example_dir(pytestconfig: pytest.Config) -> Path:
    """The example plugin package's folder (pyproject, magfw_example/, tests/)."""
    return pytestconfig.stash[EXAMPLE_KEY]


def realdata(*parts: str) -> Path:
    """A file under ../shared/realdata, or skip the test saying why."""
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} (CI has ../shared/realdata beside the clone)")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user configuration leaks into tests; logs go to the test's temporary directory."""
    for var in (
        "MAGFW_DATA",
        "MAGFW_PLUGINS",
        "MAGFW_DISABLE_PLUGIN_AUTOLOAD",
        "MAGFW_TRACE_PLUGINS",
        "MAGFW_ZIP_PASSWORD",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MAGFW_LOG", str(tmp_path / "magfw-test.log"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def example_plugin():
    """The example mission plugin module (``magfw new-plugin example``), from source."""
    from magfw_example import plugin

    return plugin


@pytest.fixture
def example_hooks(example_plugin, magfw_hooks):
    """Hooks over only the example plugin."""
    return magfw_hooks(example_plugin, names=["example"])


class _Mailbox:
    """What a loopback SMTP server received: (envelope sender, recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Any]] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        from email import message_from_bytes, policy

        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        return "250 Message accepted for delivery"

    def toml(self, recipients: dict[str, list[str]], settings: dict[str, str] | None = None) -> str:
        """A ``[notify]`` table pointing at this server."""
        lines = [
            "[notify]",
            f'server = "127.0.0.1:{self.port}"',
            'sender = "magfw@example.edu"',
            "[notify.recipients]",
        ]
        lines += [f"{k} = {list(v)!r}".replace("'", '"') for k, v in recipients.items()]
        if settings:
            lines.append("[notify.settings]")
            lines += [f'{k} = "{v}"' for k, v in settings.items()]
        return "\n".join(lines) + "\n"


@contextlib.contextmanager
def smtp_mailbox() -> Iterator[_Mailbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port, as a context manager."""
    import socket

    from aiosmtpd.controller import Controller

    box = _Mailbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        box.port = s.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[_Mailbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port for the test's duration."""
    with smtp_mailbox() as box:
        yield box
