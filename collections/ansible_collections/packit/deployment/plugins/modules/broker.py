#!/usr/bin/python
"""The broker's day-2 jobs of make queues and make purge-queues, through the API."""
from __future__ import annotations

DOCUMENTATION = r"""
module: broker
short_description: Report or purge the Celery queues of the deployment's broker in a Job; stop and start their workers
author: Packit team (@packit)
description:
  - C(inspect) reports the broker workload (Redis, Valkey or Redict), its image, and the workloads that
    consume C(queues) (their pods' C(QUEUES) variable names one of them).
  - C(report) runs the queue script (the day2 role's files/broker-queues.sh) in a Job of the broker's
    own image, which reads the broker through its Service. It returns the waiting and unacknowledged
    messages of C(queues), the broker's memory and the key groups that fill it, and deletes the Job -
    a report changes nothing (also when it fails).
  - C(purge) runs the script the other way round - it deletes the waiting messages of C(queues) (their lists,
    one atomic script) and nothing else, and returns how many each lost. The Job is kept a week.
  - C(stop-consumers) scales the workloads that consume C(queues) to zero and waits until their pods are
    gone; the replicas each had are kept in an annotation on it. C(start-consumers) scales every
    workload with that annotation back and removes it.
  - The Jobs get the broker's password as the broker's container gets it (its C(REDIS_PASSWORD)
    variable, value or Secret reference), when it has one.
  - Check mode reports what would be done and creates, changes and deletes nothing.
options:
  namespace: {description: Namespace., type: str, required: true}
  step: {description: What to do., type: str, required: true,
         choices: [inspect, report, purge, stop-consumers, start-consumers]}
  workload: {description: "The broker workload (and Service) name, as kv_database names it.", type: str, default: redis}
  queues: {description: "The Celery queues to report, purge, or whose workers to stop.", type: list, elements: str,
           default: []}
  script:
    description: Text of the queue script (report, purge).
    type: str
  port: {description: The broker Service's port., type: int, default: 6379}
  broker_db: {description: The database number of the queues (Packit's REDIS_SERVICE_DB)., type: int, default: 0}
  results_db:
    description: The database number of the task results (Packit's REDIS_CELERY_BACKEND).
    type: int
    default: 1
  labels: {description: Labels of the Jobs., type: dict, default: {}}
  timeout: {description: Seconds to wait for the Job or for the stopped pods., type: int, default: 600}
extends_documentation_fragment: [kubernetes.core.k8s_auth_options]
notes:
  - Celery messages carry no time they were sent; the oldest waiting message shows its eta when it has one
    (a retried or delayed task). Unacknowledged messages carry the time they were delivered.
"""

EXAMPLES = r"""
- name: Report the queues and the memory of the broker
  packit.deployment.broker:
    namespace: packit-stg
    step: report
    workload: valkey
    queues: [short-running, long-running, rate-limited]
    script: "{{ lookup('ansible.builtin.file', 'broker-queues.sh') }}"
"""

RETURN = r"""
found: {description: (inspect) Whether the broker workload exists., type: bool, returned: step inspect}
image: {description: (inspect) The broker container's image., type: str, returned: step inspect}
consumers:
  description: (inspect, stop-consumers, start-consumers) The workloads that consume the queues (kind, name, replicas).
  type: list
  elements: dict
  returned: steps inspect, stop-consumers and start-consumers
job: {description: "(report, purge) Name of the Job.", type: str, returned: steps report and purge}
report:
  description:
    - (report, purge) What the script found - C(queues) (name, waiting, unacked, oldest_unacked_seconds,
      oldest_task, oldest_id, oldest_eta), C(unacked_other), C(memory) (used, peak, maxmemory, policy,
      evicted_keys), C(groups) (db, group, keys, bytes, no_expiry), C(purged) (queue - messages).
  type: dict
  returned: steps report and purge
lines: {description: "(report, purge) The report as a table, one line each.", type: list, elements: str,
        returned: steps report and purge}
"""

import re
from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.jobs import JOB_TTL_SECONDS, delete_job, job_name, run_job
from ansible_collections.packit.deployment.plugins.module_utils.k8s import NAMESPACE_ARG, K8sError, run
from ansible_collections.packit.deployment.plugins.module_utils.scaling import start, stop
from ansible_collections.packit.deployment.plugins.module_utils.workloads import get_workload, list_workloads

REPLICAS_BEFORE = "packit.dev/replicas-before-purge"
# A report Job is deleted once read (a day at most if the run is interrupted); a purge Job stays
# a week, as the database Jobs.
REPORT_TTL_SECONDS = 24 * 3600


def broker_state(client, p: dict[str, Any]) -> dict[str, Any]:
    """The broker workload: its image and how its container gets the password."""
    obj = get_workload(client, p["namespace"], p["workload"])
    if obj is None:
        return {"found": False, "image": "", "password": None}
    containers = ((obj["spec"].get("template") or {}).get("spec") or {}).get("containers") or []
    container = next((c for c in containers if c.get("name") == p["workload"]), containers[0] if containers else {})
    password = next((e for e in container.get("env") or [] if e.get("name") == "REDIS_PASSWORD"), None)
    return {"found": True, "image": container.get("image", ""), "password": password}


def consumed_queues(template: dict[str, Any]) -> set[str]:
    """The queues a worker's pods consume: their QUEUES variable (run_worker.sh's -Q)."""
    found: set[str] = set()
    for container in (template.get("spec") or {}).get("containers") or []:
        for env in container.get("env") or []:
            if env.get("name") == "QUEUES" and isinstance(env.get("value"), str):
                found.update(q.strip() for q in env["value"].split(",") if q.strip())
    return found


def consumers(client, p: dict[str, Any]) -> list[dict[str, Any]]:
    wanted = set(p["queues"])
    return [obj for obj in list_workloads(client, p["namespace"])
            if consumed_queues(obj["spec"].get("template") or {}) & wanted]


def job_body(p: dict[str, Any], name: str, image: str, password: dict[str, Any] | None) -> dict[str, Any]:
    env = [{"name": "BROKER_HOST", "value": p["workload"]}, {"name": "BROKER_PORT", "value": str(p["port"])},
           {"name": "BROKER_DB", "value": str(p["broker_db"])}, {"name": "RESULTS_DB", "value": str(p["results_db"])}]
    if password:
        env.append(dict({k: v for k, v in password.items() if k != "name"}, name="REDISCLI_AUTH"))
    labels = dict(p["labels"], **{"app.kubernetes.io/name": f"broker-{p['step']}"})
    pod = {
        "restartPolicy": "Never",
        "containers": [{
            "name": "broker-queues",
            "image": image,
            "command": ["sh", "-c", p["script"], "broker-queues.sh", p["step"], ",".join(p["queues"])],
            "env": env,
            "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
            "terminationMessagePolicy": "FallbackToLogsOnError",
        }],
    }
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": p["namespace"], "labels": labels,
                         "annotations": {"packit.dev/queues": ",".join(p["queues"])}},
            "spec": {"backoffLimit": 0, "activeDeadlineSeconds": p["timeout"],
                     "ttlSecondsAfterFinished": REPORT_TTL_SECONDS if p["step"] == "report" else JOB_TTL_SECONDS,
                     "template": {"metadata": {"labels": labels}, "spec": pod}}}


def number(text: str) -> int | None:
    return int(text) if text.lstrip("-").isdigit() else None


def parse_report(text: str) -> dict[str, Any]:
    """The script's tab-separated lines as a dict (see the RETURN of report)."""
    report: dict[str, Any] = {"queues": [], "unacked_other": 0, "memory": {}, "groups": [], "purged": {}}
    for line in text.splitlines():
        fields = line.split("\t")
        kind, rest = fields[0], fields[1:]
        if kind == "queue" and len(rest) == 7:
            report["queues"].append({"name": rest[0], "waiting": int(rest[1]), "unacked": int(rest[2]),
                                     "oldest_unacked_seconds": number(rest[3]), "oldest_task": rest[4],
                                     "oldest_id": rest[5], "oldest_eta": rest[6]})
        elif kind == "unacked_other" and len(rest) == 1:
            report["unacked_other"] = int(rest[0])
        elif kind == "memory" and len(rest) == 5:
            report["memory"] = {"used": number(rest[0]), "peak": number(rest[1]), "maxmemory": number(rest[2]),
                                "policy": rest[3], "evicted_keys": number(rest[4])}
        elif kind == "group" and len(rest) == 5:
            report["groups"].append({"db": int(rest[0]), "group": rest[1], "keys": int(rest[2]),
                                     "bytes": int(rest[3]), "no_expiry": int(rest[4])})
        elif kind == "purged" and len(rest) == 2:
            report["purged"][rest[0]] = int(rest[1])
        elif kind == "error":
            raise K8sError("\t".join(rest))
    return report


def size(value: int | None) -> str:
    if value is None:
        return "?"
    if value < 1024:
        return f"{value} B"
    amount = value / 1024
    for unit in ("KiB", "MiB"):
        if amount < 1024:
            return f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GiB"


def table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as an operator reads it: queues, memory, key groups, and warnings."""
    lines = table([["QUEUE", "WAITING", "UNACKED", "OLDEST UNACKED", "OLDEST WAITING"]] + [
        [q["name"], str(q["waiting"]), str(q["unacked"]),
         "-" if q["oldest_unacked_seconds"] is None else f"{q['oldest_unacked_seconds']}s",
         "-" if not q["waiting"] else q["oldest_task"] + ("" if q["oldest_eta"] == "-" else f" (eta {q['oldest_eta']})")]
        for q in report["queues"]])
    if report["unacked_other"]:
        lines.append(f"unacknowledged messages of other queues: {report['unacked_other']}")
    memory = report["memory"]
    if memory:
        limit = memory["maxmemory"]
        share = f" ({100 * memory['used'] // limit}%)" if limit and memory["used"] is not None else ""
        lines.append(f"memory: {size(memory['used'])} used of "
                     f"{'no maxmemory (unbounded)' if not limit else 'maxmemory ' + size(limit)}{share}, "
                     f"peak {size(memory['peak'])}, policy {memory['policy']}, evicted keys {memory['evicted_keys']}")
    if report["groups"]:
        groups = sorted(report["groups"], key=lambda g: -g["bytes"])
        lines += table([["DB", "KEY GROUP", "KEYS", "SIZE", "NO EXPIRY"]] + [
            [str(g["db"]), g["group"], str(g["keys"]), size(g["bytes"]), str(g["no_expiry"])] for g in groups])
    if memory.get("policy") == "noeviction" and memory.get("maxmemory"):
        lines.append("warning: maxmemory-policy noeviction: writes fail when memory is full")
    results = sum(g["no_expiry"] for g in report["groups"] if g["group"] == "results")
    if results:
        lines.append(f"warning: {results} task results have no expiry (result_expires): they stay until deleted")
    return lines


def password_hint(message: str, p: dict[str, Any]) -> str:
    """The message of a failed Job as the operator reads it: the script's report line `error<TAB>x`
    as x, and where the broker refused the login, where the Job's password came from."""
    message = re.sub(r"failed: error\s", "failed: ", message, count=1)  # a tab, or a space once joined
    if "NOAUTH" in message or "WRONGPASS" in message or "invalid password" in message:
        return (f"{message} (the Job takes the broker's password from the REDIS_PASSWORD variable of workload "
                f"{p['workload']}'s container)")
    return message


def run_script(module, client, p: dict[str, Any]) -> dict[str, Any]:
    state = broker_state(client, p)
    if not state["found"]:
        raise K8sError(f"there is no broker workload {p['workload']} in {p['namespace']}: deploy it first "
                       f"(make deploy TAGS=redis); nothing was changed")
    name = job_name(f"broker-{p['step']}")
    if module.check_mode:
        return {"changed": p["step"] == "purge", "job": name, "report": {}, "lines": [
            f"would run Job {name}: {p['step']} {', '.join(p['queues'])} with image {state['image']}"]}
    body = job_body(p, name, state["image"], state["password"])
    try:
        messages = run_job(client, body, f"{p['step']} of {', '.join(p['queues'])}", p["timeout"])
    except K8sError as exc:
        raise K8sError(password_hint(str(exc), p)) from exc
    finally:
        # A report changes nothing: its Job goes once read, also when it failed (the message has
        # the script's error line). A purge Job stays as the record of what was deleted.
        if p["step"] == "report":
            delete_job(client, p["namespace"], name)
    try:
        report = parse_report("\n".join(messages))
    except K8sError as exc:
        raise K8sError(f"Job {name} ({p['step']}) failed: {password_hint(str(exc), p)}") from exc
    if p["step"] == "report":
        if not report["queues"]:
            raise K8sError(f"Job {name} (report) completed but left no report (its pod has no termination "
                           f"message: did the broker's image {state['image']} run the script?)")
        return {"changed": False, "job": name, "report": report, "lines": report_lines(report)}
    if not report["purged"]:
        # The script exits 0 only after writing its counts: the runtime did not pass them on.
        return {"changed": True, "job": name, "report": report, "lines": [
            f"Job {name} completed, but its pod left no report: how many messages each queue lost is "
            "unknown (make queues shows what waits now)"]}
    lines = [f"{queue}: {count} messages deleted" for queue, count in report["purged"].items()]
    return {"changed": any(report["purged"].values()), "job": name, "report": report, "lines": lines}


def act(module, client) -> dict[str, Any]:
    p = module.params
    if p["step"] == "inspect":
        state = broker_state(client, p)
        found = [{"kind": obj["kind"], "name": obj["metadata"]["name"], "replicas": obj["spec"].get("replicas", 1)}
                 for obj in consumers(client, p)]
        return {"changed": False, "found": state["found"], "image": state["image"], "consumers": found}
    if p["step"] == "stop-consumers":
        changed, found = stop(module, client, p["namespace"], consumers(client, p), REPLICAS_BEFORE, p["timeout"],
                              "nothing was purged")
        return {"changed": changed, "consumers": found}
    if p["step"] == "start-consumers":
        changed, found = start(module, client, p["namespace"], REPLICAS_BEFORE)
        return {"changed": changed, "consumers": found}
    return run_script(module, client, p)


def main() -> None:
    spec = dict(
        NAMESPACE_ARG,
        step={"type": "str", "required": True,
              "choices": ["inspect", "report", "purge", "stop-consumers", "start-consumers"]},
        workload={"type": "str", "default": "redis"},
        queues={"type": "list", "elements": "str", "default": []},
        script={"type": "str"}, port={"type": "int", "default": 6379},
        broker_db={"type": "int", "default": 0}, results_db={"type": "int", "default": 1},
        labels={"type": "dict", "default": {}}, timeout={"type": "int", "default": 600},
    )
    run(spec, act, required_if=[("step", "report", ("script", "queues")), ("step", "purge", ("script", "queues")),
                                ("step", "stop-consumers", ("queues",))])


if __name__ == "__main__":
    main()
