"""magfw.handoff.notify: [notify] in magfw.toml, sending through a real SMTP server on loopback
(aiosmtpd), printing what would be sent without configuration, one-line failures."""

from __future__ import annotations

import pytest

from magfw.errors import MagfwError, UsageError
from magfw.handoff.notify import Message, NotifySettings, notify_settings, send


def test_settings_from_magfw_toml():
    s = notify_settings(
        {
            "notify": {
                "server": "smtp.example.edu:587",
                "sender": "me@example.edu",
                "recipients": {"a": "x@example.edu", "b": ["y@example.edu", "z@example.edu"]},
                "settings": {"url": "https://box/s/1"},
            }
        }
    )
    assert (s.server, s.port, s.starttls, s.ssl) == ("smtp.example.edu", 587, True, False)
    assert s.recipients == {"a": ["x@example.edu"], "b": ["y@example.edu", "z@example.edu"]}
    assert s.setting("url") == "https://box/s/1" and s.setting("none", "d") == "d"
    assert notify_settings({}).server is None
    with pytest.raises(UsageError, match=r"\[notify\] host: unknown key"):
        notify_settings({"notify": {"host": "x"}})
    with pytest.raises(UsageError, match="bad port"):
        notify_settings({"notify": {"server": "x:y"}})


def test_sent_to_the_events_recipients_through_smtp(smtp_server, monkeypatch):
    monkeypatch.delenv("MAGFW_SMTP_USER", raising=False)
    settings = NotifySettings(
        server="127.0.0.1",
        port=smtp_server.port,
        sender="m@example.edu",
        recipients={"ev": ["r1@example.edu", "r2@example.edu"]},
    )
    shown: list[str] = []
    done = send(
        [Message("ev", "Subject é", "Body line\nsecond line"), Message("other", "nobody", "text")],
        settings,
        show=shown.append,
    )
    assert [d.sent for d in done] == [False, True]  # printed first, then sent
    ((mail_from, rcpt, msg),) = smtp_server.messages
    assert mail_from == "m@example.edu" and rcpt == ["r1@example.edu", "r2@example.edu"]
    assert msg["Subject"] == "Subject é" and msg["X-Magfw-Event"] == "ev"
    assert msg.get_content().replace("\r\n", "\n") == "Body line\nsecond line\n"
    assert len(shown) == 1 and "no [notify.recipients] other" in shown[0] and "nobody" in shown[0]


def test_without_a_server_it_says_so_in_one_line_and_logs_the_text(caplog):
    shown: list[str] = []
    with caplog.at_level("INFO", logger="magfw.handoff.notify"):
        send(
            [Message("ev", "Hello", "the text\nsecond line")],
            NotifySettings(recipients={"ev": ["a@b"]}),
            show=shown.append,
        )
    assert shown == ["not mailed (no [notify] server in magfw.toml): Hello (its text is in the log)"]
    logged = caplog.text
    assert "To: a@b" in logged and "Subject: Hello" in logged and "the text\nsecond line" in logged


def test_an_unreachable_server_is_one_line_without_the_credentials(monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MAGFW_SMTP_USER", "user-canary")
    monkeypatch.setenv("MAGFW_SMTP_PASSWORD", "pw-canary")
    with pytest.raises(MagfwError) as err:
        send(
            [Message("ev", "s", "b")],
            NotifySettings(server="127.0.0.1", port=port, recipients={"ev": ["a@b"]}),
        )
    assert f"cannot send e-mail through 127.0.0.1:{port}" in str(err.value)
    assert "pw-canary" not in str(err.value)
