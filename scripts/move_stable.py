#!/usr/bin/env python3
"""Move the `stable` branch of a service's source repositories to `main`.

    move_stable.py [--service packit] [--repos-file F] [--workdir D] init [REPO ...]
    move_stable.py [...] move [REPO ...] [--commit SHA] [--dry-run] [--yes]

`init` clones every listed repository that is missing from the working
directory. `move` fetches each repository, shows the commits between the
remote `stable` and the target (the remote `main` head, or --commit), asks,
and pushes the target to `stable` -- only when that is a fast-forward. Any
refusal prints one line naming the repository and exits non-zero.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import yaml

DEFAULT_REPOS_FILE = Path(__file__).resolve().with_name("move_stable_repos.yml")
DEFAULT_WORKDIR = Path("~/.cache/packit-move-stable")
REMOTE = "origin"


class MoveError(Exception):
    """A refusal or failure; the message is the one line shown to the user."""


@dataclass(frozen=True)
class Repo:
    name: str
    url: str


def load_repos(path: Path, service: str) -> list[Repo]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise MoveError(f"cannot read repository list {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise MoveError(f"repository list {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or service not in data:
        raise MoveError(f"repository list {path} has no entry for service {service!r}")
    entries = data[service]
    if not isinstance(entries, dict) or not entries:
        raise MoveError(f"{path}: {service} must map repository names to remote URLs")
    repos = []
    for name, url in entries.items():
        if not isinstance(url, str) or not url:
            raise MoveError(f"{path}: {service}.{name} must be a remote URL string")
        repos.append(Repo(str(name), url))
    return repos


def select(repos: list[Repo], names: Sequence[str], service: str) -> list[Repo]:
    if not names:
        return repos
    by_name = {r.name: r for r in repos}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise MoveError(f"{', '.join(unknown)}: not in the repository list of {service}")
    return [by_name[n] for n in names]


def git(cwd: Path, *args: str, check: bool = True, label: str = "") -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
        detail = (fatal or lines or [f"exit {proc.returncode}"])[0]
        raise MoveError(f"{label or cwd.name}: git {args[0]} failed: {detail}")
    return proc


def rev(cwd: Path, ref: str) -> str | None:
    proc = git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def is_ancestor(cwd: Path, older: str, newer: str) -> bool:
    return git(cwd, "merge-base", "--is-ancestor", older, newer, check=False).returncode == 0


def init_repo(repo: Repo, workdir: Path) -> str:
    path = workdir / repo.name
    if (path / ".git").is_dir():
        return f"{repo.name}: already cloned"
    if path.exists():
        raise MoveError(f"{repo.name}: {path} exists but is not a git clone; remove it")
    workdir.mkdir(parents=True, exist_ok=True)
    git(workdir, "clone", "--quiet", "--origin", REMOTE, repo.url, repo.name, label=repo.name)
    return f"{repo.name}: cloned {repo.url}"


def move_repo(
    repo: Repo,
    workdir: Path,
    *,
    main_branch: str,
    stable_branch: str,
    commit: str | None,
    dry_run: bool,
    confirm: Callable[[str], bool],
) -> str:
    path = workdir / repo.name
    if not (path / ".git").is_dir():
        raise MoveError(f"{repo.name}: not cloned in {workdir}; run `move_stable.py init` first")
    git(path, "fetch", "--quiet", "--prune", REMOTE)
    main_ref = f"{REMOTE}/{main_branch}"
    stable_ref = f"{REMOTE}/{stable_branch}"
    main_sha = rev(path, main_ref)
    if main_sha is None:
        raise MoveError(f"{repo.name}: remote has no {main_branch} branch")
    stable_sha = rev(path, stable_ref)
    if stable_sha is None:
        raise MoveError(f"{repo.name}: remote has no {stable_branch} branch to move")
    if commit is None:
        target = main_sha
    else:
        found = rev(path, commit)
        if found is None:
            raise MoveError(f"{repo.name}: commit {commit} not found after fetch")
        if not is_ancestor(path, found, main_sha):
            raise MoveError(f"{repo.name}: commit {commit} is not on {main_branch}")
        target = found
    if target == stable_sha:
        return f"{repo.name}: {stable_branch} already at {target[:12]}, nothing to move"
    if not is_ancestor(path, stable_sha, target):
        raise MoveError(
            f"{repo.name}: refusing, {stable_branch} ({stable_sha[:12]}) -> {target[:12]} is not a fast-forward"
        )
    log = git(path, "log", "--oneline", "--no-decorate", f"{stable_sha}..{target}").stdout
    count = len(log.splitlines())
    print(f"{repo.name}: {stable_branch} {stable_sha[:12]} -> {target[:12]} ({count} commits)")
    print(log, end="")
    if dry_run:
        return f"{repo.name}: dry run, nothing pushed"
    if not confirm(f"Push {target[:12]} to {repo.name} {stable_branch}? [y/N] "):
        return f"{repo.name}: skipped, nothing pushed"
    git(path, "push", "--quiet", REMOTE, f"{target}:refs/heads/{stable_branch}")
    git(path, "fetch", "--quiet", REMOTE)
    return f"{repo.name}: {stable_branch} moved to {target[:12]}"


def ask(question: str) -> bool:
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", default="packit", help="service whose repositories to use (default packit)")
    parser.add_argument("--repos-file", type=Path, default=DEFAULT_REPOS_FILE, help="YAML list of repositories per service")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help=f"where the clones live (default {DEFAULT_WORKDIR})")
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="clone the repositories that are missing")
    init.add_argument("repos", nargs="*", metavar="REPO", help="only these repositories (default all)")
    move = sub.add_parser("move", help="fast-forward stable to main (or --commit) and push")
    move.add_argument("repos", nargs="*", metavar="REPO", help="only these repositories (default all)")
    move.add_argument("--commit", help="move stable to this commit (on main) instead of main's head; needs exactly one REPO")
    move.add_argument("--main-branch", default="main", help="branch to follow (default main)")
    move.add_argument("--stable-branch", default="stable", help="branch to move (default stable)")
    move.add_argument("--dry-run", action="store_true", help="show what would move, push nothing")
    move.add_argument("--yes", "-y", action="store_true", help="push without asking")
    args = parser.parse_args(argv)
    if args.command == "move" and args.commit and len(args.repos) != 1:
        parser.error("--commit needs exactly one REPO")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir.expanduser()
    try:
        repos = select(load_repos(args.repos_file, args.service), args.repos, args.service)
    except MoveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for repo in repos:
        try:
            if args.command == "init":
                message = init_repo(repo, workdir)
            else:
                message = move_repo(
                    repo,
                    workdir,
                    main_branch=args.main_branch,
                    stable_branch=args.stable_branch,
                    commit=args.commit,
                    dry_run=args.dry_run,
                    confirm=(lambda _q: True) if args.yes else ask,
                )
            print(message)
        except MoveError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
