"""The options of the filters over the roles' table of Secrets (packit.deployment.secret_*),
documented once: packit.deployment.secrets.table (the input) and packit.deployment.secrets.keys
(the service and the enabled components, which decide the keys of a Secret)."""

from __future__ import annotations


class ModuleDocFragment:
    TABLE = r"""
options:
  _input:
    description: The table of Secrets, entries with C(name), C(component), C(keys) or C(mapping), and C(used_by).
    type: list
    elements: dict
    required: true
"""

    KEYS = r"""
options:
  service:
    description: The service (C(packit) or C(stream)); a key limited to other services (its C(services)) is left out.
    type: str
    required: true
  enabled:
    description: The enabled components; a key needed only while some components are on (its C(components)) needs one of them here.
    type: list
    elements: str
    required: true
"""
