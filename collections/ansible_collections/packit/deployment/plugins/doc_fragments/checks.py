"""The options of the checks before a run acts, documented once for every module that takes them:
packit.deployment.checks.access (access_review, preflight), packit.deployment.checks.foreign
(preflight, delete, takeover), packit.deployment.checks.postgres (preflight), and
packit.deployment.checks.preflight (apply's `preflight`: the three of them as its suboptions).
The argument specs they document are module_utils/access.py's ACCESS_ARGS,
module_utils/foreign.py's FOREIGN_ARGS and module_utils/preflight.py's PREFLIGHT_OPTIONS."""

from __future__ import annotations

import yaml


def _nested(name: str, description: str, *fragments: str) -> str:
    """A fragment with one dict option `name` whose suboptions are the options of `fragments`."""
    options = {key: value for fragment in fragments for key, value in yaml.safe_load(fragment)["options"].items()}
    return yaml.safe_dump({"options": {name: {"description": description, "type": "dict", "suboptions": options}}},
                          sort_keys=False)


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

    POSTGRES = r"""
options:
  postgres:
    description: The PostgreSQL workload whose claims to read, and the claim and version this deploy gives it; none to skip.
    type: dict
    suboptions:
      api_version:
        description: Its API version.
        type: str
        required: true
      kind:
        description: Its kind (Deployment or DeploymentConfig).
        type: str
        required: true
      name:
        description: Its name.
        type: str
        default: postgres
      claim:
        description: The claim this deploy mounts (named after the major version).
        type: str
      version:
        description: The PostgreSQL major version this deploy runs.
        type: str
  adopting:
    description: A takeover (make adopt) follows, so the foreign objects are not among the refusals.
    type: bool
    default: false
"""


# apply's `preflight`: the options of the three fragments above as its suboptions, made from
# them rather than written twice; outside the class body, where ansible-test's yamllint
# sanity test takes every assignment for a literal YAML string.
ModuleDocFragment.PREFLIGHT = _nested(
    "preflight",
    "The checks before the first write, with the options of M(packit.deployment.preflight); its findings are "
    "returned in C(preflight). Without it, nothing is checked first.",
    ModuleDocFragment.ACCESS, ModuleDocFragment.FOREIGN, ModuleDocFragment.POSTGRES)
