"""The platform setting: plain OpenShift and Red Hat's managed platform (MP+), rendered for all
six service x deployment sets through the real role and validated against the schemas and
CRDs (crds/mpp/ holds the TenantNamespace)."""

from __future__ import annotations

import pytest

from tests.support.deploytools import DEPLOYMENTS, REPO, SERVICES, all_objects, ref, template_vars
from tests.offline.test_bad_input import assert_refused, render
from scripts.validate_manifests import Schemas

SETS = [(s, d) for s in SERVICES for d in DEPLOYMENTS]
# Every component that has a claim or a Route on, so that each kind of claim is seen.
ON = {"with_repository_cache": True, "with_flower": True, "with_redis_commander": True, "with_tokman": True}
MPP_LABELS = {"app-code": "PCKT-002", "cost-center": "700", "paas.redhat.com/appcode": "PCKT-002"}
PHASES = {"dev": "lab", "stg": "preprod", "prod": "prod"}


def pod_templates(obj: dict) -> list[dict]:
    spec = obj.get("spec") or {}
    if obj["kind"] == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]]
    return [spec["template"]] if "template" in spec else []


def claims(objects: list[dict]) -> list[tuple[str, dict]]:
    """(what, claim spec) of every claim and claim template."""
    found = [(f"PVC {o['metadata']['name']}", o["spec"]) for o in objects if o["kind"] == "PersistentVolumeClaim"]
    for o in objects:
        for t in (o.get("spec") or {}).get("volumeClaimTemplates") or []:
            found.append((f"{o['metadata']['name']} claim template {t['metadata']['name']}", t["spec"]))
    return found


@pytest.fixture(scope="module")
def both(renderer):
    """For each of the six sets, its render on openshift and on mpp."""
    variants = [(s, d, dict(ON, platform=p)) for s, d in SETS for p in ("openshift", "mpp")]
    rendered = renderer.render_many(variants)
    return {(s, d, o["platform"]): all_objects(r) for (s, d, o), r in zip(variants, rendered)}


@pytest.mark.parametrize(("service", "deployment"), SETS)
def test_mpp_labels_shard_storage_class_and_namespaces(both, service, deployment):
    objects = both[(service, deployment, "mpp")]
    schemas = Schemas(REPO / "schemas" / "kubernetes.json", REPO / "crds")
    assert {f"{o['kind']}/{o['metadata']['name']}": e for o in objects if (e := schemas.errors(o))} == {}
    wanted = dict(MPP_LABELS, **{"service-phase": PHASES[deployment]})
    for o in objects:
        labels = o["metadata"]["labels"]
        assert {k: labels.get(k) for k in wanted} == wanted, ref(o)
        for template in pod_templates(o):
            assert {k: template["metadata"]["labels"].get(k) for k in wanted} == wanted, f"pods of {ref(o)}"
    routes = [o for o in objects if o["kind"] == "Route"]
    assert routes and all(r["metadata"]["labels"]["shard"] == "external" for r in routes)
    found = claims(objects)
    assert found and {what: spec.get("storageClassName") for what, spec in found} == \
        {what: "aws-ebs" for what, _ in found}
    tenant_ns = [o for o in objects if o["kind"] == "TenantNamespace"]
    assert not [o for o in objects if o["kind"] == "Namespace"]
    namespaces = {o["metadata"].get("namespace") for o in objects} - {None}
    project = f"{service}--{deployment}"
    if service == "packit":  # the sandbox is packit's (with_sandcastle)
        assert [(t["metadata"]["namespace"], t["metadata"]["name"], t["spec"]) for t in tenant_ns] == [
            (f"{service}--config", f"{deployment}-sandbox",
             {"type": "runtime", "network": {"security-zone": "internal"}})]
        assert namespaces == {project, f"{project}-sandbox", f"{service}--config"}
    else:
        assert tenant_ns == [] and project in namespaces <= {project, f"{project}-sandbox"}


@pytest.mark.parametrize(("service", "deployment"), SETS)
def test_openshift_has_none_of_the_platform_marks(both, service, deployment):
    objects = both[(service, deployment, "openshift")]
    for o in objects:
        assert not set(o["metadata"]["labels"]) & {*MPP_LABELS, "service-phase", "shard"}, ref(o)
        for template in pod_templates(o):
            assert not set(template["metadata"]["labels"]) & {*MPP_LABELS, "service-phase"}, f"pods of {ref(o)}"
    assert [what for what, spec in claims(objects) if "storageClassName" in spec] == []
    assert not [o for o in objects if o["kind"] in ("TenantNamespace", "Namespace")]
    assert {o["metadata"].get("namespace") for o in objects} - {None} <= {
        f"{service}-{deployment}", f"{service}-{deployment}-sandbox"}


def test_platform_follows_the_api_host_and_storage_class_is_its_own_setting(renderer):
    mpp_host, other_host, own_class = renderer.render_many([
        ("packit", "prod", dict(ON, host="https://api.mpp-w2-prod.abcd.p1.openshiftapps.com:6443")),
        ("packit", "prod", dict(ON, host="https://api.auto-prod.gi0n.p1.openshiftapps.com:6443")),
        ("packit", "stg", dict(ON, storage_class="ssd-csi")),
    ])
    assert {o["metadata"]["namespace"] for o in all_objects(mpp_host) if o["kind"] == "TenantNamespace"} == \
        {"packit--config"}
    assert not [o for o in all_objects(other_host) if "app-code" in o["metadata"]["labels"]]
    found = claims(all_objects(own_class))
    assert found and {spec.get("storageClassName") for _, spec in found} == {"ssd-csi"}
    assert not [o for o in all_objects(own_class) if "app-code" in o["metadata"]["labels"]]


@pytest.mark.parametrize(("extra", "fragments"), [
    ("-e platform=mpp -e project=packit-stg",
     ["platform mpp: the namespaces of tenant packit are named packit--<name>, but project is packit-stg"]),
    ("-e platform=mpp -e sandbox_namespace=other-sandbox", ["sandbox_namespace is other-sandbox"]),
    ("-e platform=aws", ["value of platform must be one of: openshift, mpp, got: aws"]),
])
def test_mpp_refuses_namespaces_outside_the_tenant(tmp_path, secrets_dir, extra, fragments):
    result, out = render(tmp_path, secrets_dir, EXTRA=f"{extra} -e config_vars_file={template_vars('packit', 'stg')}")
    assert_refused(result, out, *fragments)
