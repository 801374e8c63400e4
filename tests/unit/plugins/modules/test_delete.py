"""The delete module's order: the reverse of the apply, without the kinds that hold data."""

from __future__ import annotations

from tests.support.moduletools import load

delete = load("modules", "delete")


def test_delete_goes_the_other_way_of_the_apply_and_keeps_the_data():
    def obj(kind, name, api="v1"):
        return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "p"}}

    objects = [obj("Namespace", "p"), obj("Secret", "s"), obj("PersistentVolumeClaim", "data"),
               obj("RoleBinding", "b", "rbac.authorization.k8s.io/v1"), obj("Service", "svc"),
               obj("Deployment", "web", "apps/v1"), obj("StatefulSet", "worker", "apps/v1")]
    groups = delete.deletion_order(objects, ["PersistentVolumeClaim", "Namespace"])
    assert [[delete.label(r) for r in g] for g in groups] == [
        ["Deployment/web", "StatefulSet/worker"], ["RoleBinding/b"], ["Secret/s", "Service/svc"]]
