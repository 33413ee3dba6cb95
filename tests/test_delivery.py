"""Delivery to a remote through a real rclone: ``[delivery] remote`` in magfw.toml, a package
run that uploads its zip and ``SHA256SUMS``, checks them on the remote and puts the shared link
(else the download URL, else the remote path) into the delivery mail (a real SMTP server on
loopback); a rerun that uploads only what the remote lacks; remotes with other checksums (SFTP:
SHA-1 as Box; WebDAV: none) and with shared links (S3 presigned URLs, moto on loopback); the
credentials never in magfw's files, argv, log or mail. Faults: tests/faults/test_delivery_faults.py.
"""

from __future__ import annotations

import hashlib
import subprocess
import urllib.request
from pathlib import Path

import pytest
from conftest import smtp_mailbox
from deliveryplugin import Parcel
from rclone_helpers import PASSWORD, SECRET_KEY, alias_remote, need_rclone, s3_remote, served, served_remote

from magfw.engine.ledger import Ledger
from magfw.period import parse_period
from magfw.testing import make_hooks, run_cli

ZIP = "parcel_2024jan.zip"
SUMS = "parcel_2024jan.SHA256SUMS"


@pytest.fixture
def hooks():
    return make_hooks(Parcel(), names=["parcel"])


@pytest.fixture
def archive(hooks, tmp_path) -> Path:
    root = tmp_path / "archive"
    hooks.simulate("parcel", parse_period("2024-01"), root, None, 0)
    return root


@pytest.fixture
def mailbox():
    with smtp_mailbox() as box:
        yield box


def configure(tmp_path: Path, box, delivery: str, settings: dict[str, str] | None = None) -> None:
    text = box.toml({"parcel_delivery": ["berkeley@example.edu"]}, settings)
    (tmp_path / "magfw.toml").write_text(text + "[delivery]\n" + delivery)


def package(hooks, archive: Path, out: Path):
    return run_cli(
        ["run", "parcel", "package", "2024-01", "--source", str(archive), "--out", str(out)], hooks
    )


def bodies(box) -> list[str]:
    return [msg.get_content().replace("\r\n", "\n") for _, _, msg in box.messages]


def committed(out: Path) -> Path:
    return out / "prep_zips" / ZIP


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_a_package_run_uploads_the_zip_and_its_checksums_and_the_mail_says_where(
    hooks, archive, mailbox, tmp_path, monkeypatch
):
    need_rclone()
    remote = alias_remote(monkeypatch, "dlv", tmp_path / "box")
    configure(tmp_path, mailbox, f'remote = "{remote}deliveries"\n')
    out = tmp_path / "out"
    res = package(hooks, archive, out)
    assert res.exit_code == 0, res.stderr
    there = tmp_path / "box" / "deliveries"
    assert (there / ZIP).read_bytes() == committed(out).read_bytes()
    sha = hashlib.sha256(committed(out).read_bytes()).hexdigest()
    assert (there / SUMS).read_text() == f"{sha}  {ZIP}\n"
    check = subprocess.run(["sha256sum", "-c", SUMS], cwd=there, capture_output=True, text=True)
    assert check.returncode == 0 and f"{ZIP}: OK" in check.stdout  # what Berkeley runs
    (body,) = bodies(mailbox)
    assert f"download: dlv:deliveries/{ZIP}\n" in body  # a local remote makes no link
    assert (
        f"uploaded: dlv:deliveries/{ZIP} (SHA-256 checked on the remote; checksums: "
        f"dlv:deliveries/{SUMS})" in body
    )
    assert f"SHA-256: {sha}" in body

    # a rerun: the unit is unchanged and the remote holds it all: nothing uploaded, no mail
    stamp = (there / ZIP).stat().st_mtime_ns
    res = package(hooks, archive, out)
    assert res.exit_code == 0 and "1 skipped" in res.stdout, res.stderr
    assert (there / ZIP).stat().st_mtime_ns == stamp and len(mailbox.messages) == 1

    # the checksum list lost on the remote: a rerun uploads it alone, and announces the zip
    (there / SUMS).unlink()
    res = package(hooks, archive, out)
    assert res.exit_code == 0, res.stderr
    assert (there / SUMS).is_file() and (there / ZIP).stat().st_mtime_ns == stamp
    assert len(mailbox.messages) == 2


def test_where_the_remote_makes_no_link_the_download_url_goes_into_the_mail(
    hooks, archive, mailbox, tmp_path, monkeypatch
):
    """A remote served on the web (an SFTP folder behind https://...) keeps its
    ``[notify.settings]`` download URL; per-event folders win over ``remote``."""
    need_rclone()
    remote = alias_remote(monkeypatch, "web", tmp_path / "www")
    configure(
        tmp_path,
        mailbox,
        f'remote = "{remote}other"\n[delivery.events]\nparcel_delivery = "{remote}parcels/"\n',
        {"parcel_download_url": "https://data.example.edu/parcels/{name}"},
    )
    res = package(hooks, archive, tmp_path / "out")
    assert res.exit_code == 0, res.stderr
    assert (tmp_path / "www" / "parcels" / ZIP).is_file() and not (tmp_path / "www" / "other").exists()
    (body,) = bodies(mailbox)
    assert f"download: https://data.example.edu/parcels/{ZIP}\n" in body
    assert f"uploaded: web:parcels/{ZIP} (SHA-256" in body


def test_an_sftp_remote_is_checked_by_its_sha1_and_the_password_stays_in_rclone(
    hooks, archive, mailbox, tmp_path, monkeypatch
):
    """SFTP servers (and Box) keep SHA-1, not SHA-256: magfw computes the zip's SHA-1 to compare."""
    with served("sftp", tmp_path / "sftp-root") as port:
        remote = served_remote(monkeypatch, "ucla", "sftp", port)
        configure(tmp_path, mailbox, f'remote = "{remote}incoming"\n')
        out = tmp_path / "out"
        res = package(hooks, archive, out)
        assert res.exit_code == 0, res.stderr
    assert (tmp_path / "sftp-root" / "incoming" / ZIP).read_bytes() == committed(out).read_bytes()
    (body,) = bodies(mailbox)
    assert f"uploaded: ucla:incoming/{ZIP} (SHA-1 checked on the remote" in body
    log = (out / ".magfw" / "logs" / "magfw.log").read_text()
    assert "rclone copyto" in log  # every rclone command line is logged: none holds a secret
    for text in (log, body, res.stdout, res.stderr, (tmp_path / "magfw.toml").read_text()):
        assert PASSWORD not in text


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_a_webdav_remote_without_checksums_is_checked_by_size_and_says_so(
    hooks, archive, mailbox, tmp_path, monkeypatch
):
    with served("webdav", tmp_path / "dav-root") as port:
        remote = served_remote(monkeypatch, "dav", "webdav", port)
        configure(tmp_path, mailbox, f'remote = "{remote}d"\n')
        res = package(hooks, archive, tmp_path / "out")
        assert res.exit_code == 0, res.stderr
    assert (tmp_path / "dav-root" / "d" / ZIP).is_file()
    (body,) = bodies(mailbox)
    assert f"uploaded: dav:d/{ZIP} (size only checked on the remote" in body


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_an_s3_remote_gives_a_shared_link_that_downloads_the_zip(
    hooks, archive, mailbox, tmp_path, monkeypatch
):
    """``rclone link`` where the backend makes links (Box, Drive, S3...): the link goes into the
    mail and fetches the very zip; the secret key is nowhere."""
    with s3_remote(monkeypatch, "bucket") as remote:
        configure(tmp_path, mailbox, f'remote = "{remote}/stereo"\nlink_expire = "7d"\n')
        out = tmp_path / "out"
        res = package(hooks, archive, out)
        assert res.exit_code == 0, res.stderr
        (body,) = bodies(mailbox)
        link = next(line.split(": ", 1)[1] for line in body.splitlines() if line.startswith("download: "))
        assert link.startswith("http://127.0.0.1:") and "X-Amz-Signature=" in link
        with urllib.request.urlopen(link, timeout=10) as response:
            assert response.read() == committed(out).read_bytes()
        assert f"uploaded: bucket:deliveries/stereo/{ZIP} (MD5 checked on the remote" in body
    log = (out / ".magfw" / "logs" / "magfw.log").read_text()
    for text in (log, body, res.stdout, res.stderr):
        assert SECRET_KEY not in text


def test_without_a_remote_nothing_is_uploaded_and_the_mail_is_as_before(hooks, archive, mailbox, tmp_path):
    (tmp_path / "magfw.toml").write_text(
        mailbox.toml({"parcel_delivery": ["b@example.edu"]}, {"parcel_download_url": "https://box/s/"})
    )
    res = package(hooks, archive, tmp_path / "out")
    assert res.exit_code == 0, res.stderr
    (body,) = bodies(mailbox)
    assert f"download: https://box/s/{ZIP}\n" in body and "uploaded:" not in body


@pytest.mark.parametrize(
    ("delivery", "problem"),
    [
        ('remote = ":sftp,host=h,pass=hunter22:x"\n', "credentials stay in rclone's own configuration"),
        ('remote = "box,token=abc:f"\n', "the connection string sets 'token'"),
        ('remote = ""\n', "must name an rclone remote and folder"),
        ('remot = "box:"\n', "[delivery] remot: unknown key (did you mean 'remote'?)"),
        ('[delivery.events]\nstereo_dlivery = "box:"\n', "no installed mission sends this event"),
        ("timeout_s = 0\n", "[delivery] timeout_s: must be > 0"),
    ],
)
def test_delivery_settings_are_checked_before_anything_runs(hooks, archive, tmp_path, delivery, problem):
    (tmp_path / "magfw.toml").write_text("[delivery]\n" + delivery)
    out = tmp_path / "out"
    res = package(hooks, archive, out)
    assert res.exit_code == 2 and problem in res.stderr, res.stderr
    assert "magfw.toml: line " in res.stderr and not out.exists()
    assert "hunter22" not in res.stderr


def test_the_ledger_and_the_remote_agree_on_the_zip(hooks, archive, mailbox, tmp_path, monkeypatch):
    """What was uploaded is what the ledger recorded at commit (size and SHA-256)."""
    need_rclone()
    remote = alias_remote(monkeypatch, "dlv", tmp_path / "box")
    configure(tmp_path, mailbox, f'remote = "{remote}"\n')
    out = tmp_path / "out"
    assert package(hooks, archive, out).exit_code == 0
    (entry,) = Ledger(out / ".magfw" / "ledger.sqlite").current("parcel/package")
    (record,) = entry.outputs
    data = (tmp_path / "box" / ZIP).read_bytes()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (record["size"], record["sha256"])


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_a_link_that_cannot_be_had_is_a_warning_and_the_mail_gives_the_remote_path(
    hooks, archive, mailbox, tmp_path, monkeypatch
):
    with s3_remote(monkeypatch, "bucket") as remote:
        configure(tmp_path, mailbox, f'remote = "{remote}"\nlink_expire = "a fortnight"\n')
        res = package(hooks, archive, tmp_path / "out")
        assert res.exit_code == 0, res.stderr
    assert "magfw: warning: parcel package 2024-01: parcel_2024jan.zip: no shared link (" in res.stderr
    (body,) = bodies(mailbox)
    assert f"download: bucket:deliveries/{ZIP}\n" in body
