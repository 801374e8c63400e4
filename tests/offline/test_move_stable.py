"""move_stable.py against real git repositories with bare "remotes" made here."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "move_stable.py"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{var}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{var}_EMAIL", "test@example.invalid")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


class Upstream:
    """A bare remote with `main` and `stable`, plus a clone to commit from."""

    def __init__(self, root: Path, name: str) -> None:
        self.bare = root / "remotes" / f"{name}.git"
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))
        self.dev = root / "dev" / name
        git(root, "clone", "--quiet", str(self.bare), str(self.dev))
        git(self.dev, "checkout", "--quiet", "-B", "main")
        self.commit("initial")
        git(self.dev, "push", "--quiet", "origin", "main", "main:stable")

    def commit(self, message: str) -> str:
        (self.dev / "file.txt").write_text(message + "\n")
        git(self.dev, "add", "file.txt")
        git(self.dev, "commit", "--quiet", "-m", message)
        return git(self.dev, "rev-parse", "HEAD")

    def push(self, *refspecs: str) -> None:
        git(self.dev, "push", "--quiet", "--force", "origin", *refspecs)

    def ref(self, branch: str) -> str:
        return git(self.bare, "rev-parse", f"refs/heads/{branch}")


@pytest.fixture
def setup(tmp_path: Path):
    ups = {name: Upstream(tmp_path, name) for name in ("alpha", "beta")}
    repos_file = tmp_path / "repos.yml"
    repos_file.write_text(yaml.safe_dump({"packit": {n: u.bare.as_uri() for n, u in ups.items()}}))
    workdir = tmp_path / "work"

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, str(SCRIPT), "--repos-file", str(repos_file), "--workdir", str(workdir), *args]
        return subprocess.run(cmd, capture_output=True, text=True, input=stdin)

    return ups, run, workdir


def test_init_clones_missing_and_is_idempotent(setup):
    ups, run, workdir = setup
    first = run("init")
    assert first.returncode == 0, first.stderr
    assert "alpha: cloned" in first.stdout and "beta: cloned" in first.stdout
    assert (workdir / "alpha" / ".git").is_dir()
    second = run("init")
    assert second.returncode == 0
    assert "alpha: already cloned" in second.stdout


def test_fast_forward_move_shows_log_and_pushes(setup):
    ups, run, _ = setup
    assert run("init").returncode == 0
    alpha = ups["alpha"]
    alpha.commit("feature one")
    head = alpha.commit("feature two")
    alpha.push("main")
    result = run("move", "alpha", "--yes")
    assert result.returncode == 0, result.stderr
    assert "feature one" in result.stdout and "feature two" in result.stdout
    assert alpha.ref("stable") == head
    again = run("move", "alpha", "--yes")
    assert again.returncode == 0
    assert "nothing to move" in again.stdout


def test_non_fast_forward_is_refused(setup):
    ups, run, _ = setup
    assert run("init").returncode == 0
    alpha = ups["alpha"]
    alpha.commit("on main")
    alpha.push("main")
    git(alpha.dev, "checkout", "--quiet", "-B", "hotfix", "origin/stable")
    diverged = alpha.commit("hotfix only on stable")
    alpha.push("hotfix:stable")
    result = run("move", "alpha", "--yes")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "alpha" in lines[0] and "not a fast-forward" in lines[0]
    assert alpha.ref("stable") == diverged


def test_given_commit(setup):
    ups, run, _ = setup
    assert run("init").returncode == 0
    alpha = ups["alpha"]
    middle = alpha.commit("middle")
    alpha.commit("newest")
    alpha.push("main")
    result = run("move", "alpha", "--commit", middle[:10], "--yes")
    assert result.returncode == 0, result.stderr
    assert alpha.ref("stable") == middle
    assert "newest" not in result.stdout


def test_commit_not_on_main_is_refused(setup):
    ups, run, _ = setup
    assert run("init").returncode == 0
    alpha = ups["alpha"]
    git(alpha.dev, "checkout", "--quiet", "-B", "side")
    side = alpha.commit("side branch")
    alpha.push("side")
    before = alpha.ref("stable")
    result = run("move", "alpha", "--commit", side, "--yes")
    assert result.returncode == 1
    assert "is not on main" in result.stderr
    assert alpha.ref("stable") == before


def test_missing_repository(setup, tmp_path: Path):
    ups, run, workdir = setup
    not_cloned = run("move", "alpha", "--yes")
    assert not_cloned.returncode == 1
    assert "alpha: not cloned" in not_cloned.stderr and "init" in not_cloned.stderr
    unknown = run("move", "gamma")
    assert unknown.returncode == 2
    assert "gamma: not in the repository list of packit" in unknown.stderr
    # a listed repository whose remote does not exist: init fails naming it, others still clone
    repos_file = tmp_path / "repos.yml"
    data = yaml.safe_load(repos_file.read_text())
    data["packit"]["gone"] = (tmp_path / "remotes" / "gone.git").as_uri()
    repos_file.write_text(yaml.safe_dump(data))
    init = run("init")
    assert init.returncode == 1
    assert init.stderr.count("\n") == 1 and "gone" in init.stderr
    assert (workdir / "alpha" / ".git").is_dir()


def test_dry_run_pushes_nothing(setup):
    ups, run, _ = setup
    assert run("init").returncode == 0
    alpha = ups["alpha"]
    before = alpha.ref("stable")
    alpha.commit("pending")
    alpha.push("main")
    result = run("move", "alpha", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "pending" in result.stdout and "dry run" in result.stdout
    assert alpha.ref("stable") == before


def test_prompt_answered_no_pushes_nothing(setup):
    ups, run, _ = setup
    assert run("init").returncode == 0
    alpha = ups["alpha"]
    before = alpha.ref("stable")
    alpha.commit("pending")
    alpha.push("main")
    result = run("move", "alpha", stdin="n\n")
    assert result.returncode == 0, result.stderr
    assert "[y/N]" in result.stdout and "skipped" in result.stdout
    assert alpha.ref("stable") == before
    yes = run("move", "alpha", stdin="y\n")
    assert yes.returncode == 0 and alpha.ref("stable") == alpha.ref("main")


def test_commit_needs_one_repo(setup):
    _, run, _ = setup
    result = run("move", "--commit", "abc")
    assert result.returncode == 2 and "exactly one REPO" in result.stderr


def test_committed_repos_file_lists_both_services():
    from scripts.move_stable import DEFAULT_REPOS_FILE, load_repos

    packit = {r.name for r in load_repos(DEFAULT_REPOS_FILE, "packit")}
    assert {"packit-service", "packit", "ogr", "sandcastle", "dashboard", "tokman"} <= packit
    assert "hardly" in {r.name for r in load_repos(DEFAULT_REPOS_FILE, "stream")}
