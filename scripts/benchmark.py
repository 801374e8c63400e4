#!/usr/bin/env python3
"""Measure how long the jobs take and how much memory they use; print the figures.

    scripts/benchmark.py [--rounds N] [--no-cluster] [--db-rows N]

Renders every service x deployment (make render), then, unless --no-cluster, starts the
local control plane if needed and times a first deploy, an identical second deploy and a
--check run of the packit dev stack (make deploy LOCAL=1) with generated dev secrets.
With --db-rows N (and Debian's postgresql-15), it times the database Jobs' script
(roles/day2/files/postgres-db.sh) dumping a database of N rows and restoring it into a
fresh PostgreSQL on loopback. Nothing is asserted: the figures are for reading and comparing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(seconds, peak RSS of the largest child in MiB, exit code) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        print(f"  failed ({result.returncode}): {' | '.join(tail)}", file=sys.stderr)
    return elapsed, max(peak, before) // 1024, result.returncode


def report(label: str, samples: list[tuple[float, int, int]]) -> None:
    times = [s[0] for s in samples]
    spread = f" (min {min(times):.1f}, max {max(times):.1f})" if len(times) > 1 else ""
    print(f"{label:44} {statistics.median(times):6.1f} s{spread}   peak RSS {max(s[1] for s in samples)} MiB")


def database(rows: int) -> None:
    """Dump and restore of a database with `rows` rows through postgres-db.sh, on loopback."""
    import shutil

    import local_postgres as pg

    root = Path(tempfile.mkdtemp(prefix="packit-bench-pg-"))
    root.chmod(0o755)  # the servers run as the postgres user when this runs as root
    source, target = pg.Server(root / "source"), pg.Server(root / "target")
    try:
        source.start()
        target.start()
        dumps = root / "dump"
        dumps.mkdir()
        start = time.monotonic()
        source.sql(pg.fill_sql(rows))
        size = source.sql("SELECT pg_database_size(current_database())").strip()
        print(f"{'fill ' + str(rows) + ' rows':44} {time.monotonic() - start:7.1f}s  "
              f"database {int(size) // 2**20} MiB")
        for label, server, args in (("dump (postgres-db.sh)", source, ("dump", "bench.dump")),
                                    ("restore into a fresh server", target, ("restore", "bench.dump"))):
            start = time.monotonic()
            result = pg.run_script(server, dumps, *args)
            took = time.monotonic() - start
            note = f"dump file {(dumps / 'bench.dump').stat().st_size // 2**20} MiB" if args[0] == "dump" else ""
            print(f"{label:44} {took:7.1f}s  {note if result.returncode == 0 else 'failed: ' + result.stderr.strip()}")
        start = time.monotonic()
        same = source.contents() == target.contents()
        print(f"{'compare row for row':44} {time.monotonic() - start:7.1f}s  {'equal' if same else 'DIFFERENT'}")
    finally:
        source.stop()
        target.stop()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of each measurement (median shown)")
    parser.add_argument("--no-cluster", action="store_true", help="render only")
    parser.add_argument("--db-rows", type=int, default=0, help="also time a dump and restore of this many rows")
    parser.add_argument("--db-only", action="store_true", help="only the database measurement")
    args = parser.parse_args(argv)
    if args.db_rows:
        database(args.db_rows)
        if args.db_only:
            return 0
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    with tempfile.TemporaryDirectory(prefix="packit-bench-") as tmp:
        secrets = {s: Path(tmp) / f"secrets-{s}" for s in ("packit", "stream")}
        for service, path in secrets.items():
            _, _, code = run(["make", "generate-local-secrets", f"SERVICE={service}", f"SECRETS_DIR={path}"], env)
            if code:
                return 1
        print(f"{'measurement':44} {'median':>8}")
        for service in ("packit", "stream"):
            for deployment in ("dev", "stg", "prod"):
                samples = [run(["make", "render", f"SERVICE={service}", f"DEPLOYMENT={deployment}",
                                f"OUT={tmp}/out-{service}-{deployment}", f"SECRETS_DIR={secrets[service]}",
                                f"EXTRA_ARGS=-e config_vars_file={ROOT}/vars/{service}/{deployment}_template.yml"], env)
                           for _ in range(args.rounds)]
                objects = sum(p.read_text().count("\nkind: ") + p.read_text().startswith("kind: ")
                              for p in Path(f"{tmp}/out-{service}-{deployment}").glob("*.yml"))
                report(f"render {service}/{deployment} ({objects} objects)", samples)
        if args.no_cluster:
            return 0
        start = run([sys.executable, "scripts/local_cluster.py", "start"], env)
        report("local control plane start (binaries cached)", [start])
        deploy = ["make", "deploy", "LOCAL=1", "DEPLOYMENT=dev", "SERVICE=packit", f"SECRETS_DIR={secrets['packit']}"]
        report("deploy packit/dev (first run or update)", [run(deploy, env)])
        report("deploy packit/dev again (no change)", [run(deploy, env) for _ in range(args.rounds)])
        report("deploy packit/dev --check", [run(deploy + ["EXTRA_ARGS=--check"], env) for _ in range(args.rounds)])
        report("deploy TAGS=redis (no change)", [run(deploy + ["TAGS=redis"], env) for _ in range(args.rounds)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
