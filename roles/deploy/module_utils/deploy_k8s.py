"""Kubernetes client and error wording shared by the deploy role's modules."""

from __future__ import annotations

from typing import Any

CONNECTION_ARGS: dict[str, dict[str, Any]] = dict(
    host=dict(type="str"),
    api_key=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_cert=dict(type="path"),
    kubeconfig=dict(type="path"),
    context=dict(type="str"),
)


def api_client(p: dict) -> Any:
    """An ApiClient from host/api_key/ca_cert/validate_certs, else from a kubeconfig/context."""
    from kubernetes import client, config

    if p.get("host"):
        conf = client.Configuration()
        conf.host = p["host"]
        if p.get("api_key"):
            conf.api_key = {"authorization": "Bearer " + p["api_key"]}
        conf.verify_ssl = p["validate_certs"]
        if p.get("ca_cert"):
            conf.ssl_ca_cert = p["ca_cert"]
        conf.retries = 1
        return client.ApiClient(conf)
    return config.new_client_from_config(config_file=p.get("kubeconfig") or None, context=p.get("context") or None)


def reason(exc: Exception) -> str:
    """The part of a connection error a person needs, on one line."""
    text = str(getattr(exc, "reason", "") or exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "CERTIFICATE_VERIFY_FAILED"):
        if marker in text:
            return marker
    return text.splitlines()[0][:200] if text else type(exc).__name__


def rolled_out(obj: dict) -> bool:
    """True when a workload runs its current template with every pod ready.

    Stricter than "available == replicas": during a Recreate rollout the old pod can still
    count as available while the new one is Pending, so the updated count is checked too.
    """
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    want = spec.get("replicas", 1)
    if (status.get("observedGeneration") or 0) < (meta.get("generation") or 0):
        return False
    kind = obj.get("kind")
    if kind == "Deployment":
        return (status.get("updatedReplicas", 0) == want and status.get("replicas", 0) == want
                and status.get("availableReplicas", 0) == want and not status.get("unavailableReplicas"))
    if kind == "StatefulSet":
        return (status.get("readyReplicas", 0) == want and status.get("updatedReplicas", 0) == want
                and status.get("currentRevision") == status.get("updateRevision"))
    if kind == "DeploymentConfig":
        available = any(c.get("type") == "Available" and c.get("status") == "True"
                        for c in status.get("conditions") or [])
        return available and status.get("updatedReplicas", 0) == want and status.get("availableReplicas", 0) == want
    return False
