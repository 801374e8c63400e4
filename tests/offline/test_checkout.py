"""The check that a checkout has the newest commit of its remote's default branch
(packit.deployment.checkout): its module_utils on real git repositories, and the deploy
playbook in render mode pointed at a throwaway clone (refused on prod, a warning elsewhere)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.deploytools import failure_line, refused, run_playbook
from tests.support.moduletools import load

checkout = load("plugin_utils", "checkout")

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(directory: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(directory), *args], env=GIT_ENV, check=True, capture_output=True,
                          text=True).stdout.strip()


def commit(directory: Path, message: str) -> str:
    git(directory, "commit", "-q", "--allow-empty", "-m", message)
    return git(directory, "rev-parse", "HEAD")


@dataclass
class Repos:
    remote: Path  # a bare repository, default branch main
    upstream_work: Path  # where the remote's new commits are made and pushed from
    clone: Path  # the checkout under test, cloned with the remote's first commit

    def push_new(self, count: int = 1) -> str:
        """Commits the clone does not have, on the remote's main; the newest one."""
        for n in range(count):
            newest = commit(self.upstream_work, f"upstream {n}")
        git(self.upstream_work, "push", "-q", "origin", "main")
        return newest


@pytest.fixture
def repos(tmp_path: Path) -> Repos:
    remote, work, clone = tmp_path / "remote.git", tmp_path / "work", tmp_path / "clone"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(tmp_path, "init", "-q", "-b", "main", str(work))
    commit(work, "first")
    git(work, "remote", "add", "origin", str(remote))
    git(work, "push", "-q", "-u", "origin", "main")
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    return Repos(remote, work, clone)


def test_a_clone_of_the_newest_commit_is_up_to_date(repos):
    found = checkout.status(repos.clone)
    assert (found.state, found.remote, found.url, found.branch) == ("up to date", "origin", str(repos.remote), "main")
    assert found.commit == found.head == git(repos.clone, "rev-parse", "HEAD")
    assert checkout.message(found) == ""


def test_a_commit_the_checkout_does_not_have_is_behind(repos):
    newest = repos.push_new()
    found = checkout.status(repos.clone)
    assert (found.state, found.behind, found.commit, found.fix) == ("behind", None, newest, "git pull")
    assert checkout.message(found, refused=True) == (
        f"the checkout {repos.clone} lacks commit {newest[:12]}, the newest of origin/main ({repos.remote}): "
        "update it with `git pull`, or set check_up_to_date: false to skip this check; nothing was changed")


def test_fetched_but_not_merged_counts_the_commits(repos):
    repos.push_new(2)
    git(repos.clone, "fetch", "-q")
    found = checkout.status(repos.clone)
    assert (found.state, found.behind) == ("behind", 2)
    assert checkout.message(found) == (
        f"the checkout {repos.clone} is 2 commits behind origin/main ({repos.remote}): update it with `git pull`, "
        "or set check_up_to_date: false to skip this check")


def test_a_checkout_ahead_of_its_remote_is_up_to_date(repos):
    commit(repos.clone, "local work")
    found = checkout.status(repos.clone)
    assert found.state == "up to date" and checkout.message(found) == ""


def test_a_diverged_checkout_is_behind(repos):
    commit(repos.clone, "local work")
    repos.push_new()
    assert checkout.status(repos.clone).behind is None  # the remote's commit is not here yet
    git(repos.clone, "fetch", "-q")
    found = checkout.status(repos.clone)
    assert (found.state, found.behind) == ("behind", 1)
    assert "is 1 commit behind origin/main" in checkout.message(found)


def test_a_branch_without_upstream_is_compared_with_the_default_branch(repos):
    """The fix names the remote and its default branch: `git pull` alone would pull nothing."""
    git(repos.clone, "switch", "-q", "-c", "feature")
    repos.push_new()
    found = checkout.status(repos.clone)
    assert (found.state, found.remote, found.fix) == ("behind", "origin", "git pull origin main")
    assert "update it with `git pull origin main`" in checkout.message(found)


def test_the_upstream_of_the_current_branch_comes_before_origin(repos, tmp_path):
    fork = tmp_path / "fork.git"
    git(tmp_path, "clone", "-q", "--bare", str(repos.remote), str(fork))
    git(repos.clone, "remote", "set-url", "origin", str(fork))  # origin: a fork that is as old as the clone
    git(repos.clone, "remote", "add", "upstream", str(repos.remote))
    git(repos.clone, "config", "branch.main.remote", "upstream")
    newest = repos.push_new()
    found = checkout.status(repos.clone)
    assert (found.state, found.remote, found.commit) == ("behind", "upstream", newest)
    assert f"the newest of upstream/main ({repos.remote})" in checkout.message(found)


def test_a_detached_head_is_compared_with_origin(repos):
    git(repos.clone, "switch", "-q", "--detach")
    repos.push_new()
    found = checkout.status(repos.clone)
    assert (found.state, found.remote) == ("behind", "origin")


def test_a_checkout_without_remote_says_so_and_nothing_else(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main", "repo")
    commit(tmp_path / "repo", "first")
    found = checkout.status(tmp_path / "repo")
    assert (found.state, found.remote) == ("no remote", "")
    assert checkout.message(found) == "" and checkout.message(found, refused=True) == ""


def test_a_directory_that_is_no_checkout_says_nothing(tmp_path):
    found = checkout.status(tmp_path)
    assert found.state == "not a checkout" and checkout.message(found) == ""


def test_a_remote_that_does_not_exist_is_a_warning_naming_it(repos, tmp_path):
    gone = tmp_path / "gone.git"
    git(repos.clone, "remote", "set-url", "origin", str(gone))
    found = checkout.status(repos.clone)
    assert found.state == "unchecked"
    assert checkout.message(found) == (
        f"could not check whether the checkout {repos.clone} is up to date with its remote origin ({gone}): "
        f"'{gone}' does not appear to be a git repository")


def test_a_remote_that_does_not_answer_is_given_up_after_the_timeout(repos):
    """git's ext transport runs a command as the remote: one that never speaks. The command's
    whole session is killed, not only git."""
    git(repos.clone, "config", "protocol.ext.allow", "always")
    git(repos.clone, "remote", "set-url", "origin", "ext::sleep 60")
    start = time.monotonic()
    found = checkout.status(repos.clone, timeout=1)
    assert time.monotonic() - start < 10
    assert (found.state, found.reason) == ("unchecked", "no answer within 1 s (git ls-remote)")
    assert checkout.message(found).startswith(f"could not check whether the checkout {repos.clone} is up to date "
                                              "with its remote origin (ext::sleep 60): no answer within 1 s")


def test_no_password_of_a_remote_url_is_shown(repos):
    git(repos.clone, "remote", "set-url", "origin", "https://deployer:t0ken-secret@127.0.0.1:9/packit.git")
    found = checkout.status(repos.clone, timeout=5)
    line = checkout.message(found)
    assert found.state == "unchecked" and "(https://127.0.0.1:9/packit.git)" in line, line
    assert "t0ken-secret" not in line and "t0ken-secret" not in str(found.as_dict())


# The deploy playbook, render mode, with a behind clone as config_checkout_dir.

def render(renderer, tmp_path: Path, deployment: str, **overrides):
    """Only redis, which reads no secret file: the check comes before the components matter."""
    out = tmp_path / "out"
    overrides.setdefault("deploy_tags", "redis")
    overrides.setdefault("check_up_to_date", True)  # the tests' environment turns it off (deploytools.env)
    result = run_playbook("deploy.yml", renderer.extra_vars("packit", deployment, out, **overrides))
    return result, out


def test_prod_refuses_a_checkout_that_is_behind_and_renders_nothing(repos, renderer, tmp_path):
    repos.push_new(3)
    git(repos.clone, "fetch", "-q")
    result, out = render(renderer, tmp_path, "prod", config_checkout_dir=str(repos.clone))
    assert refused(result, f"the checkout {repos.clone} is 3 commits behind origin/main ({repos.remote}): update "
                           "it with `git pull`, or set check_up_to_date: false to skip this check; nothing was "
                           "changed"), failure_line(result)
    assert not out.exists(), "something was rendered"
    assert "TASK [deploy :" not in result.stdout
    # Said explicitly, prod renders as it is.
    allowed, out = render(renderer, tmp_path, "prod", config_checkout_dir=str(repos.clone), check_up_to_date=False)
    assert allowed.returncode == 0, failure_line(allowed)
    assert any(out.iterdir()) and "behind" not in allowed.stdout + allowed.stderr


def test_stg_warns_about_a_checkout_that_is_behind_and_renders(repos, renderer, tmp_path):
    newest = repos.push_new()
    result, out = render(renderer, tmp_path, "stg", config_checkout_dir=str(repos.clone))
    assert result.returncode == 0, failure_line(result)
    assert any(out.iterdir())
    assert (f"[WARNING]: the checkout {repos.clone} lacks commit {newest[:12]}, the newest of origin/main "
            f"({repos.remote}): update it with `git pull`, or set check_up_to_date: false to skip this check"
            in " ".join((result.stdout + result.stderr).split()))


def test_prod_renders_silently_from_a_checkout_without_remote(tmp_path, renderer):
    """The tests' own checkout may have no remote: nothing to check, nothing said."""
    git(tmp_path, "init", "-q", "-b", "main", "repo")
    commit(tmp_path / "repo", "first")
    result, out = render(renderer, tmp_path, "prod", config_checkout_dir=str(tmp_path / "repo"))
    assert result.returncode == 0, failure_line(result)
    assert not [line for line in (result.stdout + result.stderr).splitlines() if "checkout" in line and "WARNING" in line]
