"""module_utils/foreign.py: the objects of a project that another deployment made, and the line
that refuses them.

find_foreign reads the project through the API (a list per kind and namespace); here its plan
is made from live objects as the API returns them (rendered_keys, foreign_plan). read_project
runs on a client it is given - the reads are the test's own functions, raising the kubernetes
client's exceptions - or, without one, on kubernetes.core's real client against a port
nothing listens on. denied, release_claims and retain_claims only talk to the API server: the
takeover's cluster tests (tests/cluster/test_adopt.py).
"""

from __future__ import annotations

import pytest
import yaml
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ProtocolError

from tests.support.moduletools import load

foreign = load("module_utils", "foreign")
k8s = load("module_utils", "k8s")
checks = load("doc_fragments", "checks")
OURS = {foreign.MANAGED_BY: "packit-deployment"}


def obj(kind: str, name: str, api: str = "v1", labels: dict | None = None, claims: tuple[str, ...] = ()) -> dict:
    found = {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "p", "labels": labels or {}}}
    if claims:
        found["spec"] = {"template": {"spec": {"volumes": [
            {"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims] + [{"name": "tmp", "emptyDir": {}}]}}}
    return found


def test_the_claims_a_workload_mounts():
    assert foreign.pod_claims(obj("Deployment", "db", "apps/v1", claims=("postgres-15", "dumps"))) == {
        "postgres-15", "dumps"}
    assert foreign.pod_claims(obj("Deployment", "web", "apps/v1")) == set()
    assert foreign.pod_claims({"kind": "Deployment", "spec": {"template": None}}) == set()


def test_the_rendered_objects_by_identity_without_namespaces():
    rendered = [obj("Namespace", "p"), obj("Service", "web"), obj("Deployment", "web", "apps/v1")]
    assert list(foreign.rendered_keys(rendered)) == [("v1", "Service", "p", "web"), ("apps/v1", "Deployment", "p", "web")]


def plan(rendered: list[dict], listed: dict, mounting: dict | None = None) -> list[dict]:
    return foreign.foreign_plan(foreign.rendered_keys(rendered), listed, mounting or {}, "packit-deployment")


def test_a_foreign_object_with_a_rendered_name_is_deleted_and_one_that_holds_data_kept():
    rendered = [obj("PersistentVolumeClaim", "postgres-15", labels={"app": "pg"}), obj("Service", "web"),
                obj("Deployment", "web", "apps/v1"), obj("ConfigMap", "cfg")]
    listed = {("v1", "PersistentVolumeClaim", "p"): [obj("PersistentVolumeClaim", "postgres-15")],
              ("v1", "Service", "p"): [obj("Service", "web"), obj("Service", "unrelated")],
              ("apps/v1", "Deployment", "p"): [obj("Deployment", "web", "apps/v1", labels=OURS)],
              ("v1", "ConfigMap", "p"): []}
    assert foreign.public(plan(rendered, listed)) == [
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": "p", "name": "postgres-15", "action": "keep",
         "why": "holds data: labelled as this repository's"},
        {"apiVersion": "v1", "kind": "Service", "namespace": "p", "name": "web", "action": "delete",
         "why": "this repository makes it: deleted, then created as rendered"}]
    # the takeover copies the rendered labels onto a kept object
    assert plan(rendered, listed)[0]["labels"] == {"app": "pg"}


def test_a_workload_of_another_name_that_mounts_a_rendered_claim_is_deleted():
    rendered = [obj("PersistentVolumeClaim", "postgres-15"), obj("Deployment", "postgres", "apps/v1")]
    listed = {("v1", "PersistentVolumeClaim", "p"): [], ("apps/v1", "Deployment", "p"): []}
    live_workloads = [obj("Deployment", "postgres-15", "apps/v1", claims=("postgres-15", "other")),
                      obj("Deployment", "worker", "apps/v1", claims=("cache",)),
                      obj("Deployment", "pg-ours", "apps/v1", labels=OURS, claims=("postgres-15",))]
    found = plan(rendered, listed, {("apps/v1", "Deployment", "p"): live_workloads})
    assert found == [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "p", "name": "postgres-15",
                      "action": "delete",
                      "why": "mounts claim postgres-15: deleted before the new workload mounts it",
                      "mounts": ["postgres-15"], "labels": {}}]


def test_a_workload_already_in_the_plan_is_not_named_twice():
    rendered = [obj("PersistentVolumeClaim", "data"), obj("Deployment", "db", "apps/v1")]
    live_db = obj("Deployment", "db", "apps/v1", claims=("data",))
    found = plan(rendered, {("apps/v1", "Deployment", "p"): [live_db]}, {("apps/v1", "Deployment", "p"): [live_db]})
    assert [(f["name"], f["action"]) for f in found] == [("db", "delete")]


def test_the_refusal_names_the_objects_their_namespaces_and_the_command_that_previews_the_takeover():
    found = [{"kind": "Service", "name": "web", "namespace": "p", "labels": {}, "action": "delete"},
             {"kind": "Deployment", "name": "postgres-15", "namespace": "p-sandbox", "mounts": ["postgres-15", "x"],
              "labels": {"a": "b"}, "action": "delete"}]
    with pytest.raises(k8s.K8sError) as raised:
        foreign.refuse_foreign(found, "make adopt SERVICE=packit DEPLOYMENT=stg")
    assert str(raised.value) == (
        "p, p-sandbox holds objects this repository did not make (an upstream-made deployment?): Service/web; "
        "Deployment/postgres-15 (mounts claim postgres-15, x): preview the takeover with "
        "`make adopt SERVICE=packit DEPLOYMENT=stg`, then run it with APPLY=1")
    assert raised.value.result == {"foreign": foreign.public(found)}
    assert "labels" not in raised.value.result["foreign"][1]
    assert foreign.refuse_foreign([], "make adopt") is None


def _raise(exc: Exception):
    def read(_client):
        raise exc
    return read


def test_read_project_answers_with_the_client_and_what_was_read():
    client = object()
    assert foreign.read_project({}, lambda dyn: ["read on", dyn], dyn=client) == (client, ["read on", client])


@pytest.mark.parametrize(("exc", "line"), [
    (ApiException(status=403, reason="Forbidden"), "reading the project's objects failed: HTTP 403 Forbidden"),
    (ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer")),
     "reading the project's objects failed: ('Connection aborted.', ConnectionResetError(104, 'Connection reset by "
     "peer'))"),
    (k8s.K8sError("the cluster does not serve Route (route.openshift.io/v1)"),
     "the cluster does not serve Route (route.openshift.io/v1)"),
])
def test_a_failed_read_of_the_project_is_one_line(exc, line):
    with pytest.raises(k8s.K8sError) as raised:
        foreign.read_project({}, _raise(exc), dyn=object())
    assert str(raised.value) == line


def test_read_foreign_without_a_client_names_the_server_it_cannot_reach(connection, closed_url):
    """kubernetes.core's client, discovering an API server that does not listen."""
    params = dict(connection, host=closed_url, api_key="token", validate_certs=False)
    with pytest.raises(k8s.ConnectError) as raised:
        foreign.read_foreign(params, [obj("Service", "web")], "packit-deployment")
    assert str(raised.value) == f"cannot reach the cluster API at {closed_url}: Connection refused"


def test_the_foreign_options_are_the_ones_the_doc_fragment_documents():
    """FOREIGN_ARGS and packit.deployment.checks.foreign: the same names, types and defaults."""
    documented = yaml.safe_load(checks.ModuleDocFragment.FOREIGN)["options"]
    assert {name: (o["type"], o["default"]) for name, o in documented.items()} == {
        name: (spec["type"], spec["default"]) for name, spec in foreign.FOREIGN_ARGS.items()}
