"""The options that name one workload of a deployment (history, rollback, unpin), documented
once: packit.deployment.workload."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  namespace:
    description: Namespace.
    type: str
    required: true
  workload:
    description: Name of the Deployment, StatefulSet or DeploymentConfig.
    type: str
    required: true
    aliases: [component]
"""
