"""``magfw serve`` over a bad or missing ledger: one line naming ``.magfw/ledger.sqlite`` and
the problem on stderr, exit 1, nothing on stdout (nothing said about serving), nothing written
into the tree (no log, no ``-wal``/``-shm``, no fresh database), for each way a ledger can be
wrong: zero bytes, garbage, truncated, an SQLite file that is no ledger, absent, no tree."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from magfw.engine.ledger import Ledger, LedgerEntry
from magfw.testing import run_cli


def _good_ledger(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(path)
    for i in range(200):  # several pages, so that half of the file is a real truncation
        ledger.record(
            LedgerEntry(
                unit=f"m/l/-/2024-01-{1 + i % 28:02d}",
                status="ok",
                versions={"v": i},
                outputs=[{"path": f"p{i}" * 20, "product": "x", "sha256": "b" * 64, "size": 1}],
            )
        )
    return path.read_bytes()


def _zero(tree: Path) -> None:
    (tree / ".magfw").mkdir(parents=True)
    (tree / ".magfw/ledger.sqlite").write_bytes(b"")


def _garbage(tree: Path) -> None:
    (tree / ".magfw").mkdir(parents=True)
    (tree / ".magfw/ledger.sqlite").write_bytes(bytes(range(256)) * 40)


def _truncated(tree: Path) -> None:
    data = _good_ledger(tree.parent / "whole" / "ledger.sqlite")
    (tree / ".magfw").mkdir(parents=True)
    (tree / ".magfw/ledger.sqlite").write_bytes(data[: len(data) // 2])


def _not_a_ledger(tree: Path) -> None:
    (tree / ".magfw").mkdir(parents=True)
    with sqlite3.connect(tree / ".magfw/ledger.sqlite") as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    db.close()


def _absent(tree: Path) -> None:
    (tree / "products").mkdir(parents=True)


def _no_tree(tree: Path) -> None:
    pass


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "zero bytes": (_zero, "empty file"),
    "garbage": (_garbage, "not an SQLite database"),
    "truncated": (_truncated, "truncated"),
    "not a ledger": (_not_a_ledger, "not a magfw ledger: no inputs, outputs, runs table"),
    "absent": (_absent, "no ledger here"),
    "no tree": (_no_tree, "there is no output tree"),
}


def _state(tree: Path) -> dict[str, bytes]:
    if not tree.exists():
        return {}
    return {p.relative_to(tree).as_posix(): p.read_bytes() for p in tree.rglob("*") if p.is_file()} | {
        p.relative_to(tree).as_posix() + "/": b"" for p in tree.rglob("*") if p.is_dir()
    }


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_ledger_is_one_line_and_the_tree_is_left_alone(tmp_path, case):
    make, problem = CASES[case]
    tree = tmp_path / "tree"
    make(tree)
    before = _state(tree)
    result = run_cli(["serve", "--out", str(tree), "--port", "0"])
    assert result.exit_code == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert ".magfw/ledger.sqlite" in lines[0] and problem in lines[0], lines[0]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.stdout == ""  # nothing said about serving
    assert _state(tree) == before  # nothing written, not even the ledger's side files


def test_a_good_ledger_opens_read_only(tmp_path):
    """The server's ledger is read-only: writing through it is refused by SQLite itself."""
    from magfw.serve.ledger import open_ledger

    _good_ledger(tmp_path / ".magfw/ledger.sqlite")
    ledger = open_ledger(tmp_path)
    assert len(ledger.runs_after(0)) == 200
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ledger.record(LedgerEntry(unit="m/l/-/2024-02-01", status="ok", versions={}))
