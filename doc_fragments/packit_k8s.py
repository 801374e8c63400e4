"""The connection options every module of the roles takes (the same as kubernetes.core's)."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  host: {description: API server URL; without it a kubeconfig (or the pod's service account) is used., type: str}
  api_key: {description: Bearer token for I(host)., type: str}
  ca_cert: {description: CA bundle file to verify the API server with., type: path}
  validate_certs: {description: Verify the API server's certificate., type: bool, default: true}
  kubeconfig: {description: Kubeconfig file (used when I(host) is not given)., type: path}
  context: {description: Kubeconfig context., type: str}
"""
