"""A PostgreSQL cluster of its own on loopback, set up as the sclorg image sets itself up (a
login role and a database it owns, reached over TCP with a password), and the script of the
database Jobs run against it: for tests/system/test_postgres_db.py and tests/benchmarks/benchmark.py.

Debian's postgresql-15 (requirements-debian.txt); the server runs as the postgres user when
this runs as root.
"""

from __future__ import annotations

import os
import pwd
import socket
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "roles" / "day2" / "files" / "postgres-db.sh"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
USER, PASSWORD, DATABASE = "packit", "s3cret-for-tests", "packit"

# A schema and rows of the kinds the Packit database has: serial keys, foreign keys, enums,
# JSON, timestamps, binary data, NULLs, an index and a sequence moved past its rows.
FILL_TEMPLATE = """
CREATE TYPE job_status AS ENUM ('pending', 'running', 'success', 'error');
CREATE TABLE projects (id serial PRIMARY KEY, namespace text NOT NULL, repo text NOT NULL,
                       UNIQUE (namespace, repo));
CREATE TABLE runs (id bigserial PRIMARY KEY, project_id int NOT NULL REFERENCES projects(id),
                   status job_status NOT NULL, data jsonb, log bytea, started timestamptz,
                   note text);
CREATE INDEX runs_status ON runs (status);
CREATE SEQUENCE spare_ids START 100;
INSERT INTO projects (namespace, repo)
    SELECT 'ns-' || i, 'repo-' || i FROM generate_series(1, 50) AS i;
INSERT INTO runs (project_id, status, data, log, started, note)
    SELECT 1 + i % 50, (ARRAY['pending', 'running', 'success', 'error'])[1 + i % 4]::job_status,
           jsonb_build_object('i', i, 'tags', jsonb_build_array('a', i::text)),
           decode(md5(i::text), 'hex'), timestamptz '2026-01-01 00:00+00' + i * interval '1 minute',
           CASE WHEN i % 7 = 0 THEN NULL ELSE E'line\\nwith ''quotes'' and \\\\ ' || i END
    FROM generate_series(1, {rows}) AS i;
SELECT nextval('spare_ids') FROM generate_series(1, 17);
"""




def fill_sql(rows: int) -> str:
    """The schema and `rows` rows of runs (and 50 projects)."""
    return FILL_TEMPLATE.replace("{rows}", str(rows))


def free_port() -> int:
    """A free loopback port outside the ones the local control plane keeps for itself."""
    from localcluster.layout import PORT_RANGE

    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in PORT_RANGE:
            return port


def as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its server programs as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Server:
    """A PostgreSQL 15 cluster of its own on 127.0.0.1, with the sclorg image's role and database."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        subprocess.run(as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                    "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]),
                       check=True, capture_output=True)
        log = (self.root / "server.log").open("wb")
        self.process = subprocess.Popen(
            as_postgres([str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
                         "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
                         "-c", "fsync=off"]), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while subprocess.run([str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]).returncode:
            assert self.process.poll() is None, (self.root / "server.log").read_text()
            assert time.monotonic() < deadline, "PostgreSQL did not start within 30 s"
            time.sleep(0.2)
        self.admin(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
        self.admin(f"CREATE DATABASE {DATABASE} OWNER {USER}")

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster itself): runuser answers a SIGTERM by passing
        it on and waiting 2 s before it kills, so every stop took 2 s."""
        if self.process and self.process.poll() is None:
            try:
                os.kill(int((self.data / "postmaster.pid").read_text().split()[0]), signal.SIGINT)
            except (OSError, ValueError, IndexError):
                self.process.terminate()
            self.process.wait(timeout=30)

    def admin(self, sql: str) -> str:
        """SQL as the superuser over the server's socket (what the image's entrypoint does)."""
        return subprocess.run(as_postgres([str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                                           str(self.root), "-p", str(self.port), "-d", "postgres", "-c", sql]),
                              check=True, capture_output=True, text=True).stdout

    def env(self, dump_dir: Path) -> dict[str, str]:
        """What the Job's container gets: the Service and the postgres-secret keys as PG* variables."""
        return dict(os.environ, PATH=f"{PG_BIN}:{os.environ['PATH']}", PGHOST="127.0.0.1", PGPORT=str(self.port),
                    PGUSER=USER, PGPASSWORD=PASSWORD, PGDATABASE=DATABASE, DUMP_DIR=str(dump_dir))

    def sql(self, sql: str) -> str:
        """SQL as the application's user over TCP; the result unaligned, one row a line."""
        return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                              env=self.env(Path("/nonexistent")), check=True, capture_output=True, text=True).stdout

    def contents(self) -> dict[str, str]:
        """Every table row for row, each sequence's position and the schema, for comparing."""
        tables = self.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").split()
        found = {t: self.sql(f"COPY (SELECT * FROM {t} ORDER BY 1) TO STDOUT") for t in tables}
        for seq in self.sql("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1").split():
            found[f"sequence {seq}"] = self.sql(f"SELECT last_value, is_called FROM {seq}")
        schema = subprocess.run([str(PG_BIN / "pg_dump"), "--schema-only", "--no-owner"],
                                env=self.env(Path("/nonexistent")), check=True, capture_output=True, text=True).stdout
        # Without comments and the \restrict lines, whose key is new on every run.
        found["schema"] = "\n".join(line for line in schema.splitlines()
                                    if not line.startswith(("--", "\\restrict", "\\unrestrict")))
        return found


def run_script(server: Server, dump_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """postgres-db.sh with the environment the Job's container gets."""
    return subprocess.run(["bash", str(SCRIPT), *args], env=server.env(dump_dir), capture_output=True, text=True)
