"""module_utils/access.py: the lines of an access check - an unreachable or refusing API server,
an API type the cluster does not serve, the permissions a token lacks.

review_access asks the API server (who the token is, discovery, a SelfSubjectAccessReview
per check); that part needs a cluster (tests/cluster). Here: its verdict from the answers
(verdict), the errors of the kubernetes client's own exception objects (unreachable), and
connect_as with kubernetes.core's real client against a port nothing listens on and a
kubeconfig that does not exist.
"""

from __future__ import annotations

import pytest
import yaml
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError, NewConnectionError

from tests.support.moduletools import load

access = load("module_utils", "access")
k8s = load("module_utils", "k8s")
checks = load("doc_fragments", "checks")


def test_a_refused_token_names_the_api_key_setting():
    error = access.unreachable("https://api.example:6443", ApiException(status=401, reason="Unauthorized"),
                               "vars/packit/prod.yml")
    assert str(error) == ("the API server at https://api.example:6443 rejected the token (401 Unauthorized): "
                          "check api_key in vars/packit/prod.yml")


def test_an_unreachable_server_names_the_host_setting_and_the_reason():
    refused = MaxRetryError(None, "/version", NewConnectionError(None, "Failed to establish a new connection: "
                                                                      "[Errno 111] Connection refused"))
    error = access.unreachable("https://127.0.0.1:6443", refused, "vars/packit/dev.yml")
    assert str(error) == ("cannot reach the API server at https://127.0.0.1:6443: Connection refused (check host "
                          "in vars/packit/dev.yml, or start the cluster)")
    forbidden = access.unreachable("https://api.example", ApiException(status=403, reason="Forbidden"), "the vars file")
    assert str(forbidden) == ("cannot reach the API server at https://api.example: Forbidden (check host in the vars "
                              "file, or start the cluster)")


def test_connect_as_fails_with_the_line_that_names_the_setting(connection, closed_url):
    """kubernetes.core's client, discovering an API server that does not listen."""
    params = dict(connection, host=closed_url, api_key="token", validate_certs=False)
    with pytest.raises(k8s.K8sError) as raised:
        access.connect_as(params, "vars/packit/dev.yml")
    assert str(raised.value) == (f"cannot reach the API server at {closed_url}: Connection refused (check host in "
                                 "vars/packit/dev.yml, or start the cluster)")


def test_connect_as_names_a_kubeconfig_that_does_not_exist(connection, tmp_path):
    missing = tmp_path / "kubeconfig"
    with pytest.raises(k8s.K8sError, match=f"^cannot reach the API server at {missing}: .*Invalid kube-config file"):
        access.connect_as(dict(connection, kubeconfig=str(missing)), "the vars file")


CHECK = ("apps", "deployments", "patch", "packit-dev")


def test_the_verdict_counts_every_check_and_names_the_user():
    answers = [(CHECK, True), (("", "namespaces", "get", ""), True)]
    assert access.verdict("https://api", "system:serviceaccount:p:deployer", [], answers) == {
        "user": "system:serviceaccount:p:deployer", "checked": 2}


def test_the_verdict_names_every_missing_permission_in_the_order_asked():
    answers = [(("", "secrets", "get", "packit-dev"), True), (CHECK, False), (("", "namespaces", "create", ""), False)]
    with pytest.raises(k8s.K8sError) as raised:
        access.verdict("https://api", "developer", [], answers)
    assert str(raised.value) == (
        "developer is not allowed to patch deployments.apps in namespace packit-dev; create namespaces (cluster-wide): "
        "grant these permissions (e.g. the admin role in the namespace) or use another api_key")
    assert raised.value.result == {"user": "developer"}


def test_an_api_type_the_cluster_does_not_serve_comes_before_the_permissions():
    with pytest.raises(k8s.K8sError) as raised:
        access.verdict("https://kind:6443", "admin", ["DeploymentConfig (apps.openshift.io/v1)"], [(CHECK, False)])
    assert str(raised.value) == "the cluster at https://kind:6443 does not serve: DeploymentConfig (apps.openshift.io/v1)"


def test_the_access_options_are_the_ones_the_doc_fragment_documents():
    """ACCESS_ARGS and packit.deployment.checks.access: the same names, types and defaults."""
    documented = yaml.safe_load(checks.ModuleDocFragment.ACCESS)["options"]
    assert {name: (o["type"], o.get("elements"), o["default"]) for name, o in documented.items()} == {
        name: (spec["type"], spec.get("elements"), spec["default"]) for name, spec in access.ACCESS_ARGS.items()}
