#!/usr/bin/env python3
"""Profile one ansible-playbook run, the controller and every worker process, with cProfile.

    python -m tests.benchmarks.profile_deploy [--top N] [--sort tottime|cumtime] [--save FILE] -- ARGS...

ARGS are ansible-playbook's (e.g. playbooks/deploy.yml -e ...). Ansible runs each task in a
forked worker process, so a profile of the controller alone shows it waiting; this wraps
WorkerProcess.run so that each worker writes its own profile, and merges them with the
controller's. Modules run as separate Python processes (AnsiballZ): their time shows as the
worker waiting on its subprocess. Prints the top entries; nothing is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumtime"))
    parser.add_argument("--save", help="also write the merged profile (pstats) here")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    args = options.args[1:] if options.args[:1] == ["--"] else options.args

    from ansible.cli.playbook import PlaybookCLI
    from ansible.executor.process import worker

    out = Path(tempfile.mkdtemp(prefix="packit-profile-"))
    original = worker.WorkerProcess.run

    def profiled_run(self):  # runs in the forked worker
        profile = cProfile.Profile()
        try:
            return profile.runcall(original, self)
        finally:
            profile.dump_stats(out / f"worker-{os.getpid()}.prof")

    worker.WorkerProcess.run = profiled_run
    controller = cProfile.Profile()
    start = time.monotonic()
    try:
        code = controller.runcall(lambda: PlaybookCLI(["ansible-playbook", *args]).run())
    except SystemExit as stop:
        code = stop.code
    elapsed = time.monotonic() - start
    controller.dump_stats(out / "controller.prof")
    files = sorted(out.glob("*.prof"))
    stats = pstats.Stats(str(files[0]), stream=sys.stderr)
    for path in files[1:]:
        stats.add(str(path))
    if options.save:
        stats.dump_stats(options.save)
    workers = len(files) - 1
    print(f"ansible-playbook exit {code}: {elapsed:.2f} s wall, {workers} worker processes", file=sys.stderr)
    stats.sort_stats(options.sort).print_stats(options.top)
    for path in files:
        path.unlink()
    out.rmdir()
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
