"""roles/day2/files/postgres-db.sh, the script the db-dump, db-restore and db-upgrade Jobs run,
against Debian's real PostgreSQL on loopback.

Each server is a fresh cluster (initdb) set up as the sclorg image sets itself up: a login
role and a database it owns, reached over TCP with a password. Debian bookworm ships one
major version (15), so dump and restore run on the same major version here; the upgrade
Job runs the same two commands with the target version's programs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.local_postgres import PG_BIN, SCRIPT, Server, fill_sql
from tests.support.local_postgres import run_script as script
from tests.support.systemtools import require

pytestmark = pytest.mark.system
FILL = fill_sql(5000)


def require_postgres() -> None:
    require(str(PG_BIN / "postgres"), "postgresql-15")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    require_postgres()
    # A directory the postgres user can enter (pytest's tmp_path is private to root).
    root = Path(os.environ.get("TMPDIR", "/tmp")) / f"pg-{tmp_path.name}-{os.getpid()}"
    root.mkdir(mode=0o755)
    source, target = Server(root / "source"), Server(root / "target")
    try:
        source.start()
        target.start()
        yield source, target
    finally:
        source.stop()
        target.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    path = tmp_path / "dump"
    path.mkdir()
    return path


def test_dump_and_restore_into_a_fresh_cluster_row_for_row(servers, dump_dir):
    source, target = servers
    source.sql(FILL)
    before = source.contents()
    assert before["runs"].count("\n") == 5000 and before["projects"].count("\n") == 50
    assert before["sequence spare_ids"] == "116|t\n"

    dumped = script(source, dump_dir, "dump", "packit-1.dump")
    assert dumped.returncode == 0, dumped.stderr
    assert dumped.stderr.startswith("dumped database packit of PostgreSQL 15.")
    assert [p.name for p in dump_dir.iterdir()] == ["packit-1.dump"]

    restored = script(target, dump_dir, "restore", "packit-1.dump")
    assert restored.returncode == 0, restored.stderr
    assert restored.stderr.startswith("restored packit-1.dump into database packit of PostgreSQL 15.")
    assert target.contents() == before
    # The objects belong to the application's user, as on the source.
    assert target.sql("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'") == "packit\n"
    assert source.contents() == before


def test_restore_replaces_what_the_database_has(servers, dump_dir):
    """A restore over changed rows and a table the dump does not know gives exactly the dump's
    contents: what the application's user owned before is gone."""
    source, target = servers
    source.sql(FILL)
    before = source.contents()
    assert script(source, dump_dir, "dump", "d.dump").returncode == 0
    assert script(target, dump_dir, "restore", "d.dump").returncode == 0
    target.sql("DELETE FROM runs WHERE id > 10; INSERT INTO projects (namespace, repo) VALUES ('x', 'y');"
               "CREATE TABLE stray (id int)")
    again = script(target, dump_dir, "restore", "d.dump")
    assert again.returncode == 0, again.stderr
    assert target.contents() == before


def test_a_dump_is_never_overwritten(servers, dump_dir):
    source, _ = servers
    source.sql(FILL)
    assert script(source, dump_dir, "dump", "d.dump").returncode == 0
    first = (dump_dir / "d.dump").read_bytes()
    source.sql("DELETE FROM runs")
    again = script(source, dump_dir, "dump", "d.dump")
    assert again.returncode == 1
    assert again.stderr.strip() == "d.dump is already on the dump claim: a dump is never overwritten, name another one"
    assert (dump_dir / "d.dump").read_bytes() == first
    assert sorted(p.name for p in dump_dir.iterdir()) == ["d.dump"]


def test_a_failed_restore_leaves_the_database_as_it_was(servers, dump_dir):
    """A restore that fails half way (a dump cut short) rolls back: the database keeps every row
    it had. A dump that is not there fails before anything starts."""
    source, target = servers
    source.sql(FILL)
    target.sql("CREATE TABLE keep (id int); INSERT INTO keep VALUES (1), (2)")
    kept = target.contents()
    assert script(source, dump_dir, "dump", "full.dump").returncode == 0
    data = (dump_dir / "full.dump").read_bytes()
    (dump_dir / "cut.dump").write_bytes(data[: len(data) * 2 // 3])

    cut = script(target, dump_dir, "restore", "cut.dump")
    assert cut.returncode == 1
    assert cut.stderr.strip().splitlines()[-1] == (
        "restoring cut.dump into database packit (PostgreSQL 15."
        + target.sql("SHOW server_version").strip().split("15.", 1)[1]
        + ") failed; the database is unchanged")
    assert target.contents() == kept

    missing = script(target, dump_dir, "restore", "nope.dump")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "there is no dump nope.dump on the dump claim; it has: cut.dump, full.dump"
    assert target.contents() == kept


@pytest.mark.parametrize("args, message", [
    (("dump", "../etc/x"), "the dump's name '../etc/x' must be a plain file name (no '/', not starting with '.')"),
    (("restore", ""), "the dump's name '' must be a plain file name (no '/', not starting with '.')"),
    (("drop", "x"), "usage: postgres-db.sh dump|restore FILE (got 'drop')"),
])
def test_bad_arguments_are_refused_before_the_server_is_asked(tmp_path, dump_dir, args, message):
    env = dict(os.environ, PATH=f"{PG_BIN}:{os.environ['PATH']}", PGHOST="127.0.0.1", PGPORT="1",
               DUMP_DIR=str(dump_dir))
    result = subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True)
    assert (result.returncode, result.stderr.strip()) == (1, message)
    assert list(dump_dir.iterdir()) == []


def test_wrong_password_names_the_user_and_database(servers, dump_dir):
    source, _ = servers
    env = dict(source.env(dump_dir), PGPASSWORD="wrong")
    result = subprocess.run(["bash", str(SCRIPT), "dump", "x.dump"], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "cannot log in to database packit as packit on 127.0.0.1"
    assert list(dump_dir.iterdir()) == []
