"""The options of the checks before a run acts, documented once for every module that takes them:
packit.deployment.checks.access (access_review, preflight) and packit.deployment.checks.foreign
(preflight, delete, takeover). The argument specs they document are module_utils/access.py's
ACCESS_ARGS and module_utils/foreign.py's FOREIGN_ARGS."""

from __future__ import annotations


class ModuleDocFragment:
    ACCESS = r"""
options:
  verbs:
    description: Verbs every object needs.
    type: list
    elements: str
    default: [get, create, patch]
  settings_hint:
    description: Where the user sets the connection (named in error messages).
    type: str
    default: the vars file
"""

    FOREIGN = r"""
options:
  managed_by:
    description: Value of app.kubernetes.io/managed-by on this repository's objects.
    type: str
    default: packit-deployment
  command_hint:
    description: The make command line that previews a takeover (named when another deployment's objects are found).
    type: str
    default: make adopt
"""
