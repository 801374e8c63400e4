"""plugin_utils/files.py: keep_private (the private_files action)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.moduletools import load

files = load("plugin_utils", "files")


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def test_keep_private_creates_only_missing_files_and_restricts_every_listed_one(tmp_path):
    target = tmp_path / "secrets"
    target.mkdir(mode=0o755)
    (target / "mine.yml").write_text("keep me\n")
    (target / "mine.yml").chmod(0o644)
    (target / "key.pem").write_text("old key\n")
    (target / "key.pem").chmod(0o600)
    created, restricted = files.keep_private(str(target), {"mine.yml": "generated\n", "new.yml": "new\n"},
                                             ["mine.yml", "key.pem", "new.yml"], 0o600, 0o700, False)
    assert created == ["new.yml"]
    assert restricted == [".", "mine.yml"]
    assert (target / "mine.yml").read_text() == "keep me\n"
    assert (target / "new.yml").read_text() == "new\n"
    assert {p.name: _mode(p) for p in target.iterdir()} == {"mine.yml": 0o600, "key.pem": 0o600, "new.yml": 0o600}
    assert _mode(target) == 0o700
    # a second call has nothing to do
    assert files.keep_private(str(target), {"new.yml": "other\n"}, ["mine.yml", "key.pem", "new.yml"],
                              0o600, 0o700, False) == ([], [])
    assert (target / "new.yml").read_text() == "new\n"


def test_keep_private_refuses_a_missing_listed_file_and_writes_nothing(tmp_path):
    target = tmp_path / "secrets"
    with pytest.raises(ValueError, match=r"secrets/fullchain.pem does not exist \(nor privkey.pem\)"):
        files.keep_private(str(target), {"postgres.yml": "x\n"}, ["fullchain.pem", "privkey.pem", "postgres.yml"],
                           0o600, 0o700, False)
    assert not target.exists()
    with pytest.raises(ValueError, match="bad file name '../escape'"):
        files.keep_private(str(tmp_path), {"../escape": "x"}, [], 0o600, 0o700, False)
    assert not (tmp_path.parent / "escape").exists()


def test_keep_private_in_check_mode_reports_and_writes_nothing(tmp_path):
    target = tmp_path / "secrets"
    assert files.keep_private(str(target), {"a.yml": "a\n"}, ["a.yml"], 0o600, 0o700, True) == (["a.yml"], ["."])
    assert not target.exists()
    target.mkdir(mode=0o700)
    (target / "b.yml").write_text("b\n")
    (target / "b.yml").chmod(0o640)
    assert files.keep_private(str(target), {}, ["b.yml"], 0o600, 0o700, True) == ([], ["b.yml"])
    assert _mode(target / "b.yml") == 0o640
