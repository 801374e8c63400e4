#!/usr/bin/env python3
"""Measure how long the jobs take and how much memory they use; print the figures.

    scripts/benchmark.py [--rounds N] [--no-cluster] [--db-rows N] [--profile]

Renders every service x deployment (make render), then, unless --no-cluster, starts the
local control plane if needed and times, in the emptied project packit-bench, the floor
(kubectl, built from the pinned Kubernetes module, applying the very objects the deploy
applies: a first apply and an identical second one) against a first deploy, an identical
second deploy (both without the wait, as kubectl does not wait) and a TAGS=redis deploy of
the packit dev stack (make deploy LOCAL=1) with generated dev secrets; then prints each job's
median, the CPU seconds of its processes and the ratios the performance goals name.
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
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent


class Sample(NamedTuple):
    seconds: float
    rss: int  # peak RSS of the largest child so far, MiB
    code: int
    cpu: float  # CPU seconds of the children
    output: str


def run(args: list[str], env: dict[str, str]) -> Sample:
    """One command, timed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        print(f"  failed ({result.returncode}): {' | '.join(tail)}", file=sys.stderr)
    return Sample(elapsed, max(after.ru_maxrss, before.ru_maxrss) // 1024, result.returncode, cpu, result.stdout)


def report(label: str, samples: list[Sample]) -> float:
    """Print the median (and spread, CPU seconds, peak memory); return the median."""
    times = [s.seconds for s in samples]
    spread = f" (min {min(times):.1f}, max {max(times):.1f})" if len(times) > 1 else ""
    print(f"{label:44} {statistics.median(times):6.1f} s{spread}   CPU {statistics.median(s.cpu for s in samples):.1f} s"
          f"   peak RSS {max(s.rss for s in samples)} MiB")
    return statistics.median(times)


def changes(output: str) -> str:
    """The changed= count of the play recap."""
    found = [part for line in output.splitlines() if line.startswith("localhost") for part in line.split()
             if part.startswith("changed=")]
    return found[-1] if found else "changed=?"


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


def cluster(env: dict[str, str], secrets: Path, tmp: Path, rounds: int, renders: float) -> None:
    """The deploy against the kubectl floor, in the emptied project packit-bench."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from localcluster.bootstrap import empty_namespaces
    from localcluster.layout import Layout, default_cache_dir

    layout = Layout(Path(env.get("LOCAL_CLUSTER_CACHE") or default_cache_dir()))
    report("local control plane start (binaries cached)", [run([sys.executable, "scripts/local_cluster.py", "start"], env)])
    project = "-e project=packit-bench -e sandbox_namespace=packit-bench-sandbox"
    deploy = ["make", "deploy", "LOCAL=1", "DEPLOYMENT=dev", "SERVICE=packit", f"SECRETS_DIR={secrets}"]
    no_wait = f"EXTRA_ARGS={project} -e deploy_wait=false"
    manifests = tmp / "kubectl"
    rendered = run(["make", "render", "LOCAL=1", "DEPLOYMENT=dev", "SERVICE=packit", f"SECRETS_DIR={secrets}",
                    f"OUT={manifests}", "SHOW_SECRETS=1", f"EXTRA_ARGS={project}"], env)
    if rendered.code:
        return
    kubectl = [str(layout.binary("kubectl")), "--kubeconfig", str(layout.cache_dir / "deployer.kubeconfig"),
               "apply", "-f", str(manifests)]
    floor_first, floor_again, first, again, tags = [], [], [], [], []
    for _ in range(rounds):
        empty_namespaces(layout, ["packit-bench", "packit-bench-sandbox"])
        floor_first.append(run(kubectl, env))
        floor_again.append(run(kubectl, env))
        empty_namespaces(layout, ["packit-bench", "packit-bench-sandbox"])
        first.append(run(deploy + [no_wait], env))
        again.append(run(deploy + [no_wait], env))
        print(f"  identical redeploy: {changes(again[-1].output)}")
        tags.append(run(deploy + [no_wait, "TAGS=redis"], env))
    goals = (
        ("first deploy / kubectl apply", report("deploy into the empty project (no wait)", first)
         / report("kubectl apply -f, empty project", floor_first), 2.0),
        ("identical redeploy / kubectl apply", report("deploy again, no change (no wait)", again)
         / report("kubectl apply -f again, no change", floor_again), 1.5),
        ("TAGS=redis deploy / full deploy", report("deploy TAGS=redis, no change (no wait)", tags)
         / statistics.median(s.seconds for s in again), 0.15),
        ("render of all six sets, seconds", renders, 10.0),
        ("peak memory of a deploy, MiB", max(s.rss for s in first + again + tags), 66.0),
    )
    print()
    print(f"{'goal':44} {'now':>6}  {'goal':>6}")
    for label, value, goal in goals:
        print(f"{label:44} {value:6.2f}  {goal:6.2f}  {'met' if value <= goal else 'not met'}")


def profile(env: dict[str, str], secrets: Path, tmp: Path, top: int = 10) -> None:
    """cProfile of the controller process of one no-change deploy (the modules run in processes
    of their own and are not in it): the top entries by own time and by cumulative time."""
    import pstats

    out = tmp / "deploy.prof"
    playbook = f"{sys.executable} -m cProfile -o {out} {ROOT / '.venv/bin/ansible-playbook'}"
    deploy = ["make", "deploy", "LOCAL=1", "DEPLOYMENT=dev", "SERVICE=packit", f"SECRETS_DIR={secrets}",
              "EXTRA_ARGS=-e project=packit-bench -e sandbox_namespace=packit-bench-sandbox -e deploy_wait=false"]
    run(deploy, env)  # whatever the project holds, the profiled run is the one that changes nothing
    sample = run(deploy + [f"ANSIBLE_PLAYBOOK={playbook}"], env)
    print(f"\nprofile of a no-change deploy ({sample.seconds:.1f} s, {changes(sample.output)})")
    for key in ("tottime", "cumulative"):
        print(f"-- top {top} by {key}")
        pstats.Stats(str(out)).sort_stats(key).print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of each measurement (median shown)")
    parser.add_argument("--no-cluster", action="store_true", help="render only")
    parser.add_argument("--db-rows", type=int, default=0, help="also time a dump and restore of this many rows")
    parser.add_argument("--db-only", action="store_true", help="only the database measurement")
    parser.add_argument("--profile", action="store_true", help="only a cProfile of a no-change deploy")
    args = parser.parse_args(argv)
    if args.db_rows:
        database(args.db_rows)
        if args.db_only:
            return 0
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    with tempfile.TemporaryDirectory(prefix="packit-bench-") as tmp:
        secrets = {s: Path(tmp) / f"secrets-{s}" for s in ("packit", "stream")}
        for service, path in secrets.items():
            if run(["make", "generate-local-secrets", f"SERVICE={service}", f"SECRETS_DIR={path}"], env).code:
                return 1
        if args.profile:
            run([sys.executable, "scripts/local_cluster.py", "start"], env)
            profile(env, secrets["packit"], Path(tmp))
            return 0
        print(f"{'measurement':44} {'median':>8}")
        renders = 0.0
        for service in ("packit", "stream"):
            for deployment in ("dev", "stg", "prod"):
                samples = [run(["make", "render", f"SERVICE={service}", f"DEPLOYMENT={deployment}",
                                f"OUT={tmp}/out-{service}-{deployment}", f"SECRETS_DIR={secrets[service]}",
                                f"EXTRA_ARGS=-e config_vars_file={ROOT}/vars/{service}/{deployment}_template.yml"], env)
                           for _ in range(args.rounds)]
                objects = sum(p.read_text().count("\nkind: ") + p.read_text().startswith("kind: ")
                              for p in Path(f"{tmp}/out-{service}-{deployment}").glob("*.yml"))
                renders += report(f"render {service}/{deployment} ({objects} objects)", samples)
        if args.no_cluster:
            return 0
        cluster(env, secrets["packit"], Path(tmp), args.rounds, renders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
