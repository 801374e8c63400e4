#!/usr/bin/env python3
"""Measure how long the jobs take, their CPU time and memory, against kubectl; print the figures.

    python -m tests.benchmarks.benchmark [--rounds N] [--no-cluster] [--db-rows N] [--db-only]

Renders every service x deployment (make render, and all six in one run: make render-all).
Then, unless --no-cluster, starts the local control plane if needed and measures on the packit
dev stack (generated dev secrets) in the project packit-bench:
- a first deploy into an emptied project (make deploy LOCAL=1, without the wait) against the
  floor, `kubectl apply -f` of the very objects the deploy applies (make render SHOW_SECRETS=1),
  with the kubectl built from the same Kubernetes module as the API server, into the same
  emptied project;
- an identical second deploy (nothing changes) against kubectl applying them again;
- a TAGS=redis deploy against the full one, beside ansible-playbook of a play with no tasks
  (what any deploy pays before its first task) and of a play of one task that reads the
  cluster (what any deploy that compares with the cluster pays), and a --check run.
The project is emptied by deleting the instance's objects by label (kubectl delete; deleting
the namespace never finishes on the local cluster), the volumes of its claims go back into
the local cluster's pool, and the measurement starts once the controllers have removed the
pods and ReplicaSets too. Each job is one process tree: its time,
CPU seconds (user + system, all its processes) and the peak RSS of its largest process come
from wait4. It prints medians and the ratios of issue 12's goals; nothing is asserted.
With --db-rows N (and Debian's postgresql-15), it times the database Jobs' script
(roles/day2/files/postgres-db.sh) dumping a database of N rows and restoring it into a
fresh PostgreSQL on loopback.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The checkout whose jobs are measured (--tree): this one, or e.g. a worktree of an earlier
# commit for a before/after table; the local cluster and its kubectl are this checkout's.
TREE = ROOT


@dataclass
class Sample:
    seconds: float
    cpu: float  # user + system seconds of the whole process tree
    peak_mib: int  # RSS of its largest process
    code: int


def run(args: list[str], env: dict[str, str]) -> Sample:
    """One command, measured through wait4 (its own process tree only)."""
    with tempfile.TemporaryFile() as output:
        start = time.monotonic()
        process = subprocess.Popen(args, cwd=TREE, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            tail = output.read().decode(errors="replace").strip().splitlines()[-3:]
            print(f"  failed ({process.returncode}): {' | '.join(tail)}", file=sys.stderr)
    return Sample(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, process.returncode)


def report(label: str, samples: list[Sample]) -> float:
    """Print the median time, CPU and peak memory of the samples; return the median time."""
    times = [x.seconds for x in samples]
    spread = f" (min {min(times):.1f}, max {max(times):.1f})" if len(times) > 1 else ""
    median = statistics.median(times)
    print(f"{label:52} {median:6.2f} s{spread:20} CPU {statistics.median(x.cpu for x in samples):5.1f} s"
          f"   peak RSS {max(x.peak_mib for x in samples)} MiB")
    return median


def ratio(label: str, value: float, floor: float, goal: float) -> None:
    verdict = "within goal" if value <= goal * floor else "NOT within goal"
    print(f"{label:52} {value / floor:6.2f}   (goal <= {goal:g}: {verdict})")


def database(rows: int) -> None:
    """Dump and restore of a database with `rows` rows through postgres-db.sh, on loopback."""
    import shutil

    from tests.support import local_postgres as pg

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


PROJECT = "packit-bench"  # a project of the local cluster (localcluster/layout.py NAMESPACES)
INSTANCE = "app.kubernetes.io/instance=packit-dev"
# What the packit dev stack creates, for emptying the project by label.
KINDS = ("deployments.apps,statefulsets.apps,services,routes.route.openshift.io,imagestreams.image.openshift.io,"
         "configmaps,secrets,serviceaccounts,rolebindings.rbac.authorization.k8s.io,persistentvolumeclaims")
# What the controllers make from those (and remove after them).
GENERATED = "pods,replicasets.apps,controllerrevisions.apps"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of each measurement (median shown)")
    parser.add_argument("--no-cluster", action="store_true", help="render only")
    parser.add_argument("--db-rows", type=int, default=0, help="also time a dump and restore of this many rows")
    parser.add_argument("--db-only", action="store_true", help="only the database measurement")
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="measure the jobs of this checkout (e.g. a worktree of an earlier commit)")
    args = parser.parse_args(argv)
    global TREE
    TREE = args.tree.resolve()
    if args.db_rows:
        database(args.db_rows)
        if args.db_only:
            return 0
    from localcluster.layout import default_cache_dir

    env = dict(os.environ, ANSIBLE_CONFIG=str(TREE / "ansible.cfg"), LOCAL_CLUSTER_CACHE=str(default_cache_dir()))
    with tempfile.TemporaryDirectory(prefix="packit-bench-") as tmp:
        secrets = {s: Path(tmp) / f"secrets-{s}" for s in ("packit", "stream")}
        for service, path in secrets.items():
            if run(["make", "generate-local-secrets", f"SERVICE={service}", f"SECRETS_DIR={path}"], env).code:
                return 1
        print(f"{'measurement':52} {'median':>8}")
        renders = []
        for service in ("packit", "stream"):
            for deployment in ("dev", "stg", "prod"):
                samples = [run(["make", "render", f"SERVICE={service}", f"DEPLOYMENT={deployment}",
                                f"OUT={tmp}/out-{service}-{deployment}", f"SECRETS_DIR={secrets[service]}",
                                f"EXTRA_ARGS=-e config_vars_file={TREE}/vars/{service}/{deployment}_template.yml"], env)
                           for _ in range(args.rounds)]
                objects = sum(p.read_text().count("\nkind: ") + p.read_text().startswith("kind: ")
                              for p in Path(f"{tmp}/out-{service}-{deployment}").glob("*.yml"))
                renders.append(report(f"render {service}/{deployment} ({objects} objects)", samples))
        print(f"{'  the six one after the other (sum of the medians)':52} {sum(renders):6.2f} s")
        root = Path(tmp) / "secrets-root"  # make render-all's layout: <service>/<deployment>
        for service, path in secrets.items():
            (root / service).mkdir(parents=True)
            for deployment in ("dev", "stg", "prod"):
                (root / service / deployment).symlink_to(path)
        if "\nrender-all:" in (TREE / "Makefile").read_text():
            render_all = report("make render-all (the six sets in one run)",
                                [run(["make", "render-all", f"RENDER_ALL_DIR={tmp}/all", f"SECRETS_ROOT={root}"], env)
                                 for _ in range(args.rounds)])
        else:
            render_all = sum(renders)
            print("make render-all: not in this tree (the six one after the other count)")
        if args.no_cluster:
            return 0
        return cluster(args.rounds, env, Path(tmp), secrets["packit"], render_all)


def cluster(rounds: int, env: dict[str, str], tmp: Path, secrets: Path, render_all: float) -> int:
    from localcluster.bootstrap import recycle_volumes
    from localcluster.layout import Layout, default_cache_dir

    layout = Layout(default_cache_dir())
    report("local control plane start (binaries cached)",
           [run([sys.executable, "-m", "localcluster", "start"], env)])
    kubectl = [str(layout.binary("kubectl")), f"--kubeconfig={layout.kubeconfig('deployer')}"]
    settings = f"-e project={PROJECT} -e sandbox_namespace={PROJECT}-sandbox"
    deploy = ["make", "deploy", "LOCAL=1", "DEPLOYMENT=dev", "SERVICE=packit", f"SECRETS_DIR={secrets}"]
    objects = tmp / "objects"
    # The very objects the deploy applies, real Secrets included (a temporary directory).
    if run(["make", "render", "LOCAL=1", "DEPLOYMENT=dev", "SERVICE=packit", f"SECRETS_DIR={secrets}",
            f"OUT={objects}", "SHOW_SECRETS=1", f"EXTRA_ARGS={settings}"], env).code:
        return 1
    floor_apply = kubectl + ["apply", "-f", str(objects)]

    def empty() -> None:
        for namespace in (PROJECT, f"{PROJECT}-sandbox"):
            subprocess.run(kubectl + ["delete", KINDS, "-n", namespace, "-l", INSTANCE, "--wait=true",
                                      "--timeout=180s", "--ignore-not-found"],
                           check=True, capture_output=True, cwd=TREE)
        recycle_volumes(layout)  # the deleted claims' volumes back into the pool (Retain policy)
        # Empty means empty: the garbage collector and kwok are still removing the workloads'
        # ReplicaSets and pods, and a deploy measured meanwhile would share the CPU with them.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            left = [name for namespace in (PROJECT, f"{PROJECT}-sandbox")
                    for name in subprocess.run(kubectl + ["get", GENERATED, "-n", namespace, "-l", INSTANCE, "-o", "name"],
                                               check=True, capture_output=True, text=True, cwd=TREE).stdout.split()]
            if not left:
                return
            time.sleep(0.5)
        raise SystemExit(f"the project was not empty after 180 s: {' '.join(left[:5])}")

    first, floor_first = [], []
    for _ in range(rounds):
        empty()
        first.append(run(deploy + [f"EXTRA_ARGS={settings} -e deploy_wait=false"], env))
        empty()
        floor_first.append(run(floor_apply, env))
    again_floor = [run(floor_apply, env) for _ in range(rounds)]
    run(deploy + [f"EXTRA_ARGS={settings}"], env)  # the deploy's own state again (kubectl rewrote the annotations)
    again = [run(deploy + [f"EXTRA_ARGS={settings}"], env) for _ in range(rounds)]
    tag = [run(deploy + ["TAGS=redis", f"EXTRA_ARGS={settings}"], env) for _ in range(rounds)]
    # The bounds under the one-tag ratio, on the same inventory and configuration: what any
    # deploy pays before its first task (a play with no tasks), and what any deploy that reads
    # the cluster pays at least (a play of one module run that reads it: the status table).
    empty_play, one_read = tmp / "empty-play.yml", tmp / "one-read.yml"
    empty_play.write_text("- hosts: localhost\n  gather_facts: false\n  tasks: []\n")
    one_read.write_text(
        "- hosts: localhost\n  gather_facts: false\n"
        f"  vars_files: ['{layout.connection_vars}']\n"
        "  module_defaults:\n    group/packit.deployment.k8s:\n"
        "      {host: '{{ host }}', api_key: '{{ api_key }}', ca_cert: '{{ ca_cert }}'}\n"
        "  tasks:\n    - name: Read the status table\n      packit.deployment.workload_status:\n"
        f"        {{namespace: {PROJECT}, service: packit, deployment: dev}}\n"
        "      no_log: true\n")
    playbook = str(TREE / ".venv" / "bin" / "ansible-playbook")
    idle = [run([playbook, str(empty_play)], env) for _ in range(rounds)]
    read_once = [run([playbook, str(one_read)], env) for _ in range(rounds)]
    check = [run(deploy + [f"EXTRA_ARGS={settings} --check"], env) for _ in range(rounds)]
    # Leave the project empty: the stack's image streams would import on schedule from now on.
    cleanup = [run(["make", "cleanup", "LOCAL=1", "DEPLOYMENT=dev", "SERVICE=packit", f"SECRETS_DIR={secrets}",
                    f"EXTRA_ARGS={settings}"], env)]
    empty()
    print()
    t_first = report("deploy packit/dev into an emptied project (no wait)", first)
    f_first = report("  floor: kubectl apply -f of the same objects", floor_first)
    t_again = report("deploy packit/dev again (nothing changes)", again)
    f_again = report("  floor: kubectl apply -f again", again_floor)
    t_tag = report("deploy TAGS=redis (nothing changes)", tag)
    t_idle = report("  ansible-playbook of a play with no tasks", idle)
    t_read = report("  ansible-playbook of one task reading the cluster", read_once)
    report("deploy packit/dev --check", check)
    report("make cleanup of the whole stack (claims stay)", cleanup)
    peak = max(x.peak_mib for x in first + again + tag + check)
    print()
    ratio("first deploy / kubectl apply", t_first, f_first, 2)
    ratio("identical redeploy / kubectl apply again", t_again, f_again, 1.5)
    ratio("TAGS=redis / full redeploy", t_tag, t_again, 0.15)
    print(f"{'  a play with no tasks / full redeploy':52} {t_idle / t_again:6.2f}   (no deploy can take less)")
    print(f"{'  one task reading the cluster / full redeploy':52} {t_read / t_again:6.2f}"
          "   (no deploy that compares with the cluster can take less)")
    print(f"{'render all six sets (make render-all)':52} {render_all:6.2f} s   (goal <= 10 s: "
          f"{'within goal' if render_all <= 10 else 'NOT within goal'})")
    # No verdict: the goal is "no higher than before", and before is a figure of another tree
    # (tests/benchmarks/benchmark.py --tree on a worktree of the earlier commit measures it this way).
    print(f"{'peak RSS of a deploy process':52} {peak:6d} MiB (goal: no higher than before; compare with --tree)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
