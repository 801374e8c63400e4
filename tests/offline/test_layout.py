"""The layout keeps its promises (docs/layout.md): one data layer that every job's play loads
first, deploy and day2 as peers that never reach into each other, and Python that imports
without changing sys.path."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.support.deploytools import REPO, refused, run_make, run_playbook, template_vars

# The data layer every play loads first, and the roles that may use it but never each other.
DATA = "model"
PEERS = ("config", "deploy", "day2")


def tracked(*patterns: str) -> list[str]:
    result = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", *patterns], cwd=REPO,
                            capture_output=True, text=True, check=True)
    return [p for p in result.stdout.split() if (REPO / p).is_file()]


def test_no_python_file_changes_sys_path():
    changing = re.compile(r"\bsys\.path\s*(\.\s*(insert|append|extend)\b|\[[^\]]*\]\s*=|\s*[+]?=)")
    offenders = [f"{path}:{n}" for path in tracked("*.py")
                 for n, line in enumerate((REPO / path).read_text().splitlines(), 1) if changing.search(line)]
    assert offenders == []


def test_pytest_is_not_given_extra_import_paths():
    assert "pythonpath" not in (REPO / "pytest.ini").read_text()


@pytest.mark.parametrize("role", PEERS)
def test_a_peer_role_neither_includes_nor_reads_another(role):
    """No include/import of another peer, no path into it, and none of the prefixed variables
    of deploy and day2 in each other or in the data layer (day2 may name deploy_postgres_switch
    to the operator, as an -e argument)."""
    others = [p for p in PEERS if p != role]
    prefixed = [p for p in ("deploy", "day2") if p != role]
    found = []
    for path in tracked(f"roles/{role}"):
        for n, line in enumerate((REPO / path).read_text().splitlines(), 1):
            if any(re.search(rf"name:\s*{o}\b|roles/{o}\b", line) for o in others) or any(
                    re.search(rf"(?<!-e ){p}_[a-z]", line) for p in prefixed):
                found.append(f"{path}:{n}: {line.strip()}")
    assert found == []


def test_the_data_layer_reads_no_peer():
    found = [f"{path}:{n}" for path in tracked(f"roles/{DATA}")
             for n, line in enumerate((REPO / path).read_text().splitlines(), 1)
             if re.search(r"\b(deploy|day2)_[a-z]|name:\s*(config|deploy|day2)\b", line)]
    assert found == []


def test_every_play_that_takes_the_settings_loads_the_data_layer_first():
    plays = [(path, play) for path in tracked("playbooks/*.yml")
             for play in yaml.safe_load((REPO / path).read_text()) if play.get("roles")]
    assert {path for path, _ in plays} >= {"playbooks/deploy.yml", "playbooks/day2.yml"}
    order = {path: [r["role"] if isinstance(r, dict) else r for r in play["roles"]][:2] for path, play in plays}
    assert {tuple(o) for o in order.values()} == {(DATA, "config")}, order


def test_the_day2_playbook_refuses_an_unknown_job():
    result = run_playbook("day2.yml", {"service": "packit", "deployment": "dev", "day2_action": "reboot",
                                       "config_vars_file": str(template_vars("packit", "dev"))})
    assert refused(result, "day2_action must be one of check, history, import_images, restart")


@pytest.mark.parametrize(("old", "new"), [("COMPONENT", "WORKLOAD"), ("COMPONENTS", "WORKLOADS")])
def test_the_older_workload_variables_still_work_with_a_warning(old, new):
    result = run_make("history" if old == "COMPONENT" else "restart", "-n", DEPLOYMENT="dev", **{old: "packit-service"})
    assert result.returncode == 0, result.stderr
    assert f"{old}= is deprecated: use {new}=packit-service" in result.stderr
    assert 'day2_workload="packit-service"' in result.stdout or 'day2_workloads="packit-service"' in result.stdout
