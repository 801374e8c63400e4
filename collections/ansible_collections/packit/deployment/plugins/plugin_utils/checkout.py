"""Whether a checkout lacks the newest commit of its remote's default branch (the checkout
action, on the controller, where the checkout is; documented in plugins/modules/checkout.py).

Only git reads: the remote's default branch is asked for with `git ls-remote` (nothing is
fetched), and the checkout is behind when that commit is not HEAD or one of its ancestors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

ARGUMENT_SPEC = {"path": {"type": "path", "required": True},
                 "on_behind": {"type": "str", "choices": ["warn", "fail"], "default": "warn"},
                 "setting": {"type": "str", "default": "check_up_to_date"},
                 "timeout": {"type": "float", "default": 10.0}}

UP_TO_DATE, BEHIND, NO_REMOTE, NOT_A_CHECKOUT, UNCHECKED = (
    "up to date", "behind", "no remote", "not a checkout", "unchecked")


@dataclass
class Checkout:
    """What the check found. state: up to date (HEAD has the remote's commit, or is ahead of
    it), behind, no remote, not a checkout, or unchecked (reason says why: e.g. the remote
    did not answer)."""

    state: str
    directory: str
    remote: str = ""
    url: str = ""
    branch: str = ""  # the remote's default branch (e.g. main), when the remote names it
    commit: str = ""  # the newest commit of that branch
    head: str = ""  # the checkout's HEAD
    behind: int | None = None  # commits HEAD lacks; None when the remote's commit is not here at all
    fix: str = ""  # the command that brings the checkout up to date
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


class GitError(Exception):
    """A git command failed or took too long: one line, credentials removed."""


def public(text: str) -> str:
    """Text with the user and password of every URL in it removed (https://user:token@host/...)."""
    return re.sub(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@", r"\1", text)


def git(directory: Path, *args: str, timeout: float | None = None, ok: tuple[int, ...] = (0,)) -> tuple[int, str]:
    """(exit code, stdout) of `git -C directory args`. The command runs in a session of its
    own, without a terminal and with stdin closed: a remote that asks for a password or a host
    key fails instead of waiting, and on timeout the whole session (ssh too) is killed."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        proc = subprocess.Popen(["git", "-C", str(directory), *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True)
    except OSError as exc:
        raise GitError(f"git cannot be run ({exc.strerror})") from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise GitError(f"no answer within {timeout:g} s (git {args[0]})") from None
    if proc.returncode not in ok:
        lines = [line.removeprefix("fatal: ").strip() for line in err.splitlines() if line.strip()]
        raise GitError(public(lines[0] if lines else f"git {' '.join(args)} failed with exit code {proc.returncode}"))
    return proc.returncode, out.strip()


def find_remote(directory: Path) -> tuple[str, str]:
    """(remote, the current branch's upstream branch) of a checkout: the remote of the current
    branch's upstream, else origin, else ("", "")."""
    code, ref = git(directory, "symbolic-ref", "-q", "HEAD", ok=(0, 1))  # 1: a detached HEAD
    remote = upstream = ""
    if code == 0 and ref.startswith("refs/heads/"):
        branch = ref.removeprefix("refs/heads/")
        remote = git(directory, "config", "--get", f"branch.{branch}.remote", ok=(0, 1))[1]
        upstream = git(directory, "config", "--get", f"branch.{branch}.merge", ok=(0, 1))[1]
    if remote in ("", "."):  # "." is the checkout itself
        remote, upstream = ("origin", "") if "origin" in git(directory, "remote")[1].split() else ("", "")
    return remote, upstream


def status(directory: Path, timeout: float = 10.0) -> Checkout:
    """Where a checkout stands against its remote's default branch (the remote's HEAD)."""
    where = str(directory)
    try:
        if git(directory, "rev-parse", "--is-inside-work-tree")[1] != "true":  # e.g. in .git
            return Checkout(NOT_A_CHECKOUT, where)
        remote, upstream = find_remote(directory)
    except GitError as exc:  # not a repository (a copy without .git), or one git refuses to read
        return Checkout(NOT_A_CHECKOUT if "not a git repository" in str(exc) else UNCHECKED, where, reason=str(exc))
    if not remote:
        return Checkout(NO_REMOTE, where)
    found = Checkout(UNCHECKED, where, remote=public(remote))  # an upstream may be a URL instead of a name
    try:
        named = remote in git(directory, "remote")[1].split()
        found.url = public(git(directory, "remote", "get-url", remote)[1] if named else remote)
        _code, answer = git(directory, "ls-remote", "--symref", remote, "HEAD", timeout=timeout)
        for line in answer.splitlines():
            target, _tab, ref = line.partition("\t")
            if ref != "HEAD":
                continue
            if target.startswith("ref: refs/heads/"):
                found.branch = target.removeprefix("ref: refs/heads/")
            else:
                found.commit = target
        if not found.commit:
            found.reason = "it names no default branch (HEAD)"
            return found
        found.head = git(directory, "rev-parse", "--verify", "-q", "HEAD", ok=(0, 1))[1]
        here = git(directory, "cat-file", "-e", f"{found.commit}^{{commit}}", ok=(0, 1, 128))[0] == 0
        if here and found.head:
            code, _out = git(directory, "merge-base", "--is-ancestor", found.commit, "HEAD", ok=(0, 1))
            if code == 0:
                found.state = UP_TO_DATE
                return found
            found.behind = int(git(directory, "rev-list", "--count", f"HEAD..{found.commit}")[1])
    except GitError as exc:
        found.reason = str(exc)
        return found
    found.state = BEHIND
    tracks = upstream == f"refs/heads/{found.branch}" if found.branch else False
    found.fix = "git pull" if tracks or not found.branch else f"git pull {found.remote} {found.branch}"
    return found


def message(found: Checkout, setting: str = "check_up_to_date", refused: bool = False) -> str:
    """The one line about a checkout that is behind (refused: the run stops) or could not be
    checked; "" when there is nothing to say."""
    where = f"{found.remote}/{found.branch}" if found.branch else f"the default branch of {found.remote}"
    if found.url and found.url != found.remote:
        where += f" ({found.url})"
    if found.state == BEHIND:
        if found.behind is None:
            what = f"lacks commit {found.commit[:12]}, the newest of {where}"
        else:
            what = f"is {found.behind} commit{'' if found.behind == 1 else 's'} behind {where}"
        return (f"the checkout {found.directory} {what}: update it with `{found.fix}`, or set {setting}: false to "
                f"skip this check{'; nothing was changed' if refused else ''}")
    if found.state == UNCHECKED:
        remote = f" with its remote {found.remote}{f' ({found.url})' if found.url and found.url != found.remote else ''}"
        return (f"could not check whether the checkout {found.directory} is up to date{remote if found.remote else ''}: "
                f"{found.reason}")
    return ""
