"""The processes of the cluster: each component runs in its own session with its pid in
run/<component>.pid and its output in logs/<component>.log. A process counts as ours only
while its executable is a binary of the cache directory, so a stale pid file never names
someone else's process."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import requests

from localcluster import ClusterError
from localcluster.components import STOP_GRACE, api_healthy, component_args, component_env, health_check
from localcluster.layout import COMPONENTS, Layout


def read_pid(layout: Layout, component: str) -> int | None:
    """The pid of a running component started by us, or None."""
    path = layout.pid_file(component)
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if not _pid_runs_binary(pid, layout, component):
        path.unlink(missing_ok=True)
        return None
    return pid


def _pid_runs_binary(pid: int, layout: Layout, component: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
        return False
    return state != "Z" and bool(cmdline) and cmdline[0].decode(errors="replace").endswith(f"/{component}") \
        and str(layout.cache_dir) in cmdline[0].decode(errors="replace")


def our_processes(layout: Layout) -> list[tuple[int, str]]:
    """Every live process whose executable is one of our cached binaries."""
    found = []
    root = str(layout.cache_dir / "bin") + "/"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
            continue
        if argv0.startswith(root) and state != "Z":
            found.append((int(entry.name), argv0.rsplit("/", 1)[-1]))
    return found


def start_component(layout: Layout, component: str) -> int:
    """Start one component in its own session; returns its pid (existing one if running)."""
    pid = read_pid(layout, component)
    if pid is not None:
        return pid
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    args = component_args(layout, component)
    env = dict(os.environ, **component_env(layout, component))
    with open(layout.log_file(component), "ab") as log:
        log.write(f"\n==== {datetime.datetime.now().isoformat()} starting {component}\n".encode())
        log.flush()
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=layout.cache_dir, start_new_session=True, env=env)
    layout.pid_file(component).write_text(f"{proc.pid}\n")
    # Until exec() the child still shows our own command line; wait for it.
    deadline = time.monotonic() + 5
    while not _pid_runs_binary(proc.pid, layout, component):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise ClusterError(f"{component} did not start; see {layout.log_file(component)}")
        time.sleep(0.02)
    return proc.pid


def stop_component(layout: Layout, component: str, timeout: float = 20.0) -> None:
    """Stop one component we started (SIGTERM, then SIGKILL) and wait until it is gone."""
    pid = read_pid(layout, component)
    if pid is None:
        return
    terminate(pid, STOP_GRACE.get(component, timeout))
    layout.pid_file(component).unlink(missing_ok=True)


def terminate(pid: int, timeout: float) -> None:
    """SIGTERM, and SIGKILL after `timeout` seconds; returns once the process is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our own child (the fixture may start components in-process).
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_component(layout: Layout, component: str, timeout: float = 120.0) -> None:
    """Wait until the component serves; fails at once if its process exits."""
    check = health_check(layout, component)
    if check is not None:
        _wait(check, timeout, layout, component)


def _wait(check: Callable[[], bool], timeout: float, layout: Layout, component: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read_pid(layout, component) is None:
            raise ClusterError(f"{component} exited during start; see {layout.log_file(component)}")
        try:
            if check():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.3)
    raise ClusterError(f"{component} not healthy after {timeout:.0f}s; see {layout.log_file(component)}")


def is_running(layout: Layout) -> bool:
    return all(read_pid(layout, c) is not None for c in COMPONENTS) and api_healthy(layout)
