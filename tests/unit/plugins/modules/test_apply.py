"""The apply module's pure parts: the phases of an apply, a failure's message without the Secret's values, the kinds compared with the live objects."""

from __future__ import annotations

from tests.support.moduletools import load

apply = load("modules", "apply")


def test_the_apply_sends_namespaces_first_and_workloads_last_keeping_the_order_within_a_phase():
    objects = [{"kind": k, "metadata": {"name": f"{k.lower()}-{i}"}} for i, k in enumerate(
        ["Deployment", "ConfigMap", "Namespace", "RoleBinding", "Secret", "StatefulSet", "Service", "Role",
         "CronJob", "ServiceAccount"])]
    phases = [[o["kind"] for o in group] for group in apply.phases(objects)]
    assert phases == [["Namespace"], ["ConfigMap", "Secret", "Service", "Role", "ServiceAccount"], ["RoleBinding"],
                      ["Deployment", "StatefulSet", "CronJob"]]
    assert apply.phases([]) == []


def test_a_failed_secret_apply_names_the_secret_but_not_its_values():
    secret = {"kind": "Secret", "metadata": {"name": "postgres-secret"},
              "data": {"database-password": "c2VjcmV0LXZhbHVl"}, "stringData": {"token": "tok-123"}}
    message = 'Secret "postgres-secret" is invalid: c2VjcmV0LXZhbHVl secret-value tok-123'
    assert apply.censored(message, secret) == 'Secret "postgres-secret" is invalid: ******** ******** ********'
    service = {"kind": "Service", "metadata": {"name": "redis"}}
    assert apply.censored("port 6379 is taken", service) == "port 6379 is taken"


def test_the_apply_compares_only_the_kinds_the_cluster_rewrites():
    objects = [{"apiVersion": "apps/v1", "kind": "Deployment"}, {"apiVersion": "v1", "kind": "Service"},
               {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream"},
               {"apiVersion": "apps/v1", "kind": "Deployment"}]
    assert apply.live_kinds(objects) == [("apps/v1", "Deployment"), ("image.openshift.io/v1", "ImageStream")]
