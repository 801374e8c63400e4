"""Test sessions (pytest runs) sharing one cluster register here, so that the last one to
leave stops a cluster that a session started, and none stops it under another's feet.

A session is a pid plus its start time (field 22 of /proc/<pid>/stat), so a reused pid
does not count as the session that registered.
"""

from __future__ import annotations

from pathlib import Path

from localcluster.layout import Layout


def _users_dir(layout: Layout) -> Path:
    return layout.run_dir / "users"


def _start_time(pid: int | str) -> str:
    return Path(f"/proc/{pid}/stat").read_text().split()[21]


def register_user(layout: Layout, pid: int) -> None:
    _users_dir(layout).mkdir(parents=True, exist_ok=True)
    (_users_dir(layout) / str(pid)).write_text(_start_time(pid) + "\n")


def unregister_user(layout: Layout, pid: int) -> None:
    (_users_dir(layout) / str(pid)).unlink(missing_ok=True)


def other_users(layout: Layout, pid: int) -> list[int]:
    """Live registered sessions other than `pid` (stale entries are removed)."""
    live: list[int] = []
    directory = _users_dir(layout)
    if not directory.is_dir():
        return live
    for entry in directory.iterdir():
        if not entry.name.isdigit() or int(entry.name) == pid:
            continue
        try:
            alive = _start_time(entry.name) == entry.read_text().strip()
        except (FileNotFoundError, IndexError):
            alive = False
        if alive:
            live.append(int(entry.name))
        else:
            entry.unlink(missing_ok=True)
    return live


def session_owned_flag(layout: Layout) -> Path:
    """Present while the running cluster was started by a test session (not by a person)."""
    return layout.run_dir / "started-by-session"
