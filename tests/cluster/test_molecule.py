"""The molecule scenario of the deploy role (molecule/default), run as `molecule test` runs it:
prepare, converge, molecule's own idempotence step (a second converge must report no change),
a --check converge, the verify play (k8s_info asserts) and destroy, on the local control plane
this session already runs (prepare only starts it when it is not running)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.deploytools import REPO
from localcluster.processes import is_running

pytestmark = pytest.mark.cluster


def test_molecule_scenario_converges_idempotently_and_verifies(local_cluster):
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", LOCAL_CLUSTER_CACHE=str(local_cluster.cache_dir),
               ANSIBLE_NOCOLOR="1", NO_COLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run([str(bin_dir / "molecule"), "test", "--scenario-name", "default"], cwd=REPO, env=env,
                          capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    for step in ("prepare", "converge", "idempotence", "check", "verify", "destroy"):
        assert f"[default > {step}] Executed: Successful" in output, f"step {step}: {output[-4000:]}"
    # prepare found the session's control plane running, so destroy left it running.
    assert is_running(local_cluster.layout)
