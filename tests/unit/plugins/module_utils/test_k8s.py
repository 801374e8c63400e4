"""module_utils/k8s.py: the one-line errors, and run(), the main() of every cluster module."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

k8s = load("module_utils", "k8s")


@pytest.mark.parametrize(("exc", "line"), [
    (type("E", (Exception,), {"body": b'{"message": "pods \\"x\\" is forbidden:\\n  no"}'})(), 'pods "x" is forbidden: no'),
    (type("E", (Exception,), {"reason": "Max retries exceeded ([Errno 111] Connection refused)"})(),
     "Connection refused"),
    (ValueError("x" * 400), "x" * 297 + "..."),
    (ValueError(""), "ValueError"),
])
def test_errors_become_one_line(exc, line):
    assert k8s.api_message(exc) == line
    assert k8s.one_line(exc) == f"cluster API call failed: {line}"
    assert k8s.one_line(k8s.K8sError("ours")) == "ours"


def _run_module(action, capsys) -> dict:
    """k8s.run() with an action, as a module run: its JSON answer."""
    import json as _json

    from ansible.module_utils.testing import patch_module_args

    with patch_module_args({}), pytest.raises(SystemExit):
        k8s.run({}, action, connected=False)
    return _json.loads(capsys.readouterr().out)


def test_a_bug_in_a_module_fails_with_one_line_and_keeps_its_traceback(capsys, monkeypatch):
    from ansible.module_utils._internal import _traceback

    def action(module, _client):
        return {"value": {}["missing"]}

    answer = _run_module(action, capsys)
    assert answer["failed"] is True
    assert answer["msg"].startswith("internal error KeyError: 'missing' at test_k8s.py:")
    assert answer["msg"].endswith("a bug of packit.deployment; ANSIBLE_DISPLAY_TRACEBACK=error shows its traceback")
    assert "exception" not in answer  # tracebacks off: ansible-core's default
    # With tracebacks on (ANSIBLE_DISPLAY_TRACEBACK=error hands the module _ansible_tracebacks_for).
    monkeypatch.setattr(_traceback, "_is_traceback_enabled", lambda event: True)
    answer = _run_module(action, capsys)
    assert "Traceback (most recent call last)" in answer["exception"] and "KeyError" in answer["exception"]


def test_a_cluster_error_fails_with_its_one_line_and_no_traceback(capsys):
    from kubernetes.client.exceptions import ApiException

    def action(module, _client):
        raise ApiException(status=403, reason="Forbidden")

    answer = _run_module(action, capsys)
    assert answer["msg"] == "cluster API call failed: Forbidden"
    assert "exception" not in answer
