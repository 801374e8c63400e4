#!/usr/bin/python
"""The database jobs of make db-dump, db-restore and db-upgrade, through the API."""
from __future__ import annotations

DOCUMENTATION = r"""
module: postgres
short_description: Dump or restore the deployment's PostgreSQL database in a Job; stop and start its clients
author: Packit team (@packit)
description:
  - C(inspect) reports the claims and image of the PostgreSQL workload, and whether the dump claim is there.
  - C(dump) runs the dump script (the day2 role's files/postgres-db.sh) in a Job from the PostgreSQL
    image, which writes the dump to a file on the dump claim; the claim is created when missing
    and never deleted. C(restore) runs it the other way round. Both wait for the Job and fail with
    the script's own message (the pod's termination message) when it fails.
  - C(stop-writers) scales every workload whose pods read the database Secret (the applications
    that write to the database) to zero and waits until their pods are gone; the replicas each had
    are kept in an annotation on it (with C(names), those workloads instead). C(start-writers) scales
    every workload with that annotation back and removes it.
  - C(import-image) imports C(image) into the C(tag) of the PostgreSQL workload's ImageStream (an
    ImageStreamImport), which its image trigger follows.
  - Check mode reports what would be done and changes nothing.
options:
  namespace: {description: Namespace., type: str, required: true}
  step: {description: What to do., type: str, required: true,
         choices: [inspect, dump, restore, stop-writers, start-writers, import-image]}
  names: {description: stop-writers of these workloads instead of the Secret's readers., type: list, elements: str,
          default: []}
  tag: {description: The ImageStream tag import-image imports into (the deployment's name)., type: str}
  workload: {description: The PostgreSQL workload (and Service) name., type: str, default: postgres}
  secret:
    description: The name of the Secret with database-name, database-user and database-password.
    type: str
    default: postgres-secret
  image:
    description: PostgreSQL image the Job runs (dump, restore).
    type: str
  script:
    description: Text of the dump script (dump, restore).
    type: str
  file:
    description: Name of the dump file on the dump claim (dump, restore).
    type: str
  claim: {description: The dump claim., type: str, default: postgres-dump}
  claim_size: {description: Size of the dump claim when it is created., type: str, default: 10Gi}
  claim_storage_class: {description: Storage class of the dump claim when it is created (empty - the cluster's default).,
                        type: str, default: ""}
  claim_pending:
    description:
      - In check mode, a missing dump claim is not refused (a dump step before this one in the same
        run would create it; make db-upgrade's preview).
    type: bool
    default: false
  labels: {description: Labels of the Job and the dump claim., type: dict, default: {}}
  timeout: {description: Seconds to wait for the Job or for the stopped pods., type: int, default: 1800}
extends_documentation_fragment: [kubernetes.core.k8s_auth_options]
notes:
  - A module of its own because each step is several API calls that belong together (claim, Job,
    wait, the pods' termination messages as the error; scale, remember, wait for the pods to go).
"""

EXAMPLES = r"""
- name: Dump the database onto the dump claim
  packit.deployment.postgres:
    namespace: packit-stg
    step: dump
    image: "{{ running_postgres_image }}"
    script: "{{ lookup('ansible.builtin.file', 'postgres-db.sh') }}"
    file: postgres-15-20261126-012253.dump

- name: Stop the applications that write to the database
  packit.deployment.postgres:
    namespace: packit-stg
    step: stop-writers
"""

RETURN = r"""
found: {description: (inspect) Whether the PostgreSQL workload exists., type: bool, returned: step inspect}
kind: {description: (inspect) Its kind., type: str, returned: step inspect}
claims: {description: (inspect) The claims its pod template mounts., type: list, elements: str, returned: step inspect}
images: {description: (inspect) Its containers' images., type: list, elements: str, returned: step inspect}
dump_claim: {description: (inspect) Whether the dump claim exists., type: bool, returned: step inspect}
writers:
  description: (stop-writers, start-writers) The workloads scaled (apiVersion, kind, name, replicas before).
  type: list
  elements: dict
  returned: steps stop-writers and start-writers
job:
  description: (dump, restore) Name of the Job.
  type: str
  returned: steps dump and restore
message:
  description: (dump, restore) What the Job's script reported.
  type: str
  returned: steps dump and restore
imported: {description: (import-image) The image reference the tag resolves to now., type: str, returned: step import-image}
"""

from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.images import (
    build_import, imported_reference, post_import, stream_tag,
)
from ansible_collections.packit.deployment.plugins.module_utils.jobs import JOB_TTL_SECONDS, job_name, joined, run_job
from ansible_collections.packit.deployment.plugins.module_utils.k8s import (
    CLUSTER_ERRORS, NAMESPACE_ARG, K8sError, api_message, get, resource, run,
)
from ansible_collections.packit.deployment.plugins.module_utils.scaling import start, stop
from ansible_collections.packit.deployment.plugins.module_utils.workloads import get_workload, list_workloads

REPLICAS_BEFORE = "packit.dev/replicas-before-db-job"
DUMP_DIR = "/dump"


def claims_of(template: dict[str, Any]) -> list[str]:
    volumes = (template.get("spec") or {}).get("volumes") or []
    return [v["persistentVolumeClaim"]["claimName"] for v in volumes if v.get("persistentVolumeClaim")]


def reads_secret(template: dict[str, Any], secret: str) -> bool:
    """Whether the pod template takes anything from the Secret (env, envFrom or a volume)."""
    spec = template.get("spec") or {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for env in container.get("env") or []:
            if ((env.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name") == secret:
                return True
        for source in container.get("envFrom") or []:
            if (source.get("secretRef") or {}).get("name") == secret:
                return True
    return any((v.get("secret") or {}).get("secretName") == secret for v in spec.get("volumes") or [])


def inspect(client, p: dict[str, Any]) -> dict[str, Any]:
    dump_claim_found = get(client, "v1", "PersistentVolumeClaim", p["namespace"], p["claim"]) is not None
    return dict(workload_state(client, p), dump_claim=dump_claim_found)


def workload_state(client, p: dict[str, Any]) -> dict[str, Any]:
    obj = get_workload(client, p["namespace"], p["workload"])
    if obj is None:
        return {"found": False, "kind": "", "claims": [], "images": [], "replicas": 0}
    template = obj["spec"].get("template") or {}
    images = [c.get("image") for c in (template.get("spec") or {}).get("containers") or []]
    return {"found": True, "kind": obj["kind"], "claims": claims_of(template), "images": images,
            "replicas": obj["spec"].get("replicas", 1)}


def stop_writers(module, client, p: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    """Scale the workloads that read the database Secret (or those named in `names`) to zero."""
    writers = [obj for obj in list_workloads(client, p["namespace"])
               if (obj["metadata"]["name"] in p["names"] if p["names"] else
                   obj["metadata"]["name"] != p["workload"] and reads_secret(obj["spec"].get("template") or {}, p["secret"]))]
    return stop(module, client, p["namespace"], writers, REPLICAS_BEFORE, p["timeout"], "nothing was dumped or restored")


def import_image(module, client, p: dict[str, Any]) -> dict[str, Any]:
    """Import `image` into the tag `tag` of the PostgreSQL ImageStream (which the workload's image
    trigger follows), keeping the tag's import and reference policies."""
    stream = get(client, "image.openshift.io/v1", "ImageStream", p["namespace"], p["workload"])
    if stream is None:
        raise K8sError(f"there is no ImageStream {p['workload']} in {p['namespace']} to import {p['image']} into")
    body, _spec = build_import(stream, p["tag"], source=p["image"])
    _tag, before = stream_tag(stream, p["tag"])
    if module.check_mode:
        return {"changed": True, "imported": "", "before": before}
    imported = imported_reference(post_import(client, body), p["workload"], p["image"])
    return {"changed": imported != before, "imported": imported, "before": before}


def dump_claim(module, client, p: dict[str, Any], create: bool) -> bool:
    """Make sure the dump claim is there; True when it was (or would be) created."""
    if get(client, "v1", "PersistentVolumeClaim", p["namespace"], p["claim"]) is not None:
        return False
    if not create and module.check_mode and p["claim_pending"]:
        return False  # the dump step of the same run would have created it
    if not create:
        raise K8sError(f"there is no dump claim {p['claim']} in {p['namespace']}: make db-dump creates it "
                       "with the first dump; nothing was changed")
    if not module.check_mode:
        body = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": p["claim"], "namespace": p["namespace"],
                             "labels": dict(p["labels"], **{"app.kubernetes.io/name": p["claim"]})},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": p["claim_size"]}}}}
        if p["claim_storage_class"]:
            body["spec"]["storageClassName"] = p["claim_storage_class"]
        try:
            resource(client, "v1", "PersistentVolumeClaim").create(body=body, namespace=p["namespace"])
        except CLUSTER_ERRORS as exc:
            raise K8sError(f"cannot create the dump claim {p['claim']} in {p['namespace']}: {api_message(exc)}") from exc
    return True


def job_body(p: dict[str, Any], name: str) -> dict[str, Any]:
    def secret_env(variable: str, key: str) -> dict[str, Any]:
        return {"name": variable, "valueFrom": {"secretKeyRef": {"name": p["secret"], "key": key}}}

    labels = dict(p["labels"], **{"app.kubernetes.io/name": f"db-{p['step']}"})
    pod = {
        "restartPolicy": "Never",
        "containers": [{
            "name": "postgres-db",
            "image": p["image"],
            "command": ["bash", "-c", p["script"], "postgres-db.sh", p["step"], p["file"]],
            "env": [{"name": "PGHOST", "value": p["workload"]}, {"name": "PGPORT", "value": "5432"},
                    secret_env("PGDATABASE", "database-name"), secret_env("PGUSER", "database-user"),
                    secret_env("PGPASSWORD", "database-password"), {"name": "DUMP_DIR", "value": DUMP_DIR}],
            "volumeMounts": [{"name": "dump", "mountPath": DUMP_DIR}],
            "resources": {"requests": {"cpu": "10m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}},
            "terminationMessagePolicy": "FallbackToLogsOnError",
        }],
        "volumes": [{"name": "dump", "persistentVolumeClaim": {"claimName": p["claim"]}}],
    }
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": p["namespace"], "labels": labels,
                         "annotations": {"packit.dev/dump-file": p["file"]}},
            "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": JOB_TTL_SECONDS,
                     "activeDeadlineSeconds": p["timeout"],
                     "template": {"metadata": {"labels": labels}, "spec": pod}}}


def run_dump_job(module, client, p: dict[str, Any]) -> dict[str, Any]:
    name = job_name(f"db-{p['step']}")
    created_claim = dump_claim(module, client, p, create=p["step"] == "dump")
    result = {"job": name, "file": p["file"], "claim": p["claim"], "claim_created": created_claim}
    if module.check_mode:
        return dict(result, message=f"would run Job {name}: {p['step']} {p['file']} on claim {p['claim']}")
    message = joined(run_job(client, job_body(p, name), f"{p['step']} {p['file']}", p["timeout"]))
    return dict(result, message=message or f"{p['step']} of {p['file']} completed")


def act(module, client) -> dict[str, Any]:
    p = module.params
    if p["step"] == "inspect":
        return dict(inspect(client, p), changed=False)
    if p["step"] == "stop-writers":
        changed, found = stop_writers(module, client, p)
        return {"changed": changed, "writers": found}
    if p["step"] == "start-writers":
        changed, found = start(module, client, p["namespace"], REPLICAS_BEFORE)
        return {"changed": changed, "writers": found}
    if p["step"] == "import-image":
        return import_image(module, client, p)
    return dict(run_dump_job(module, client, p), changed=True)


def main() -> None:
    spec = dict(
        NAMESPACE_ARG,
        step={"type": "str", "required": True,
              "choices": ["inspect", "dump", "restore", "stop-writers", "start-writers", "import-image"]},
        names={"type": "list", "elements": "str", "default": []}, tag={"type": "str"},
        workload={"type": "str", "default": "postgres"},
        # the name of a Secret, not a secret
        secret={"type": "str", "default": "postgres-secret", "no_log": False},
        image={"type": "str"}, script={"type": "str"}, file={"type": "str"},
        claim={"type": "str", "default": "postgres-dump"}, claim_size={"type": "str", "default": "10Gi"},
        claim_storage_class={"type": "str", "default": ""}, claim_pending={"type": "bool", "default": False},
        labels={"type": "dict", "default": {}}, timeout={"type": "int", "default": 1800},
    )
    run(spec, act, required_if=[("step", "dump", ("image", "script", "file")),
                                ("step", "import-image", ("image", "tag")),
                                ("step", "restore", ("image", "script", "file"))])


if __name__ == "__main__":
    main()
