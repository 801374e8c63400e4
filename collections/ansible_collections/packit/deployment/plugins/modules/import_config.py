"""Documentation of the import_config action (plugins/action/import_config.py); it runs on the
controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: import_config
short_description: Move a rendered app configuration to values.yml and compare it with config/
author: Packit team (@packit)
description:
  - Reads the app configuration files of C(source) that upstream packit/deployment renders
    (C(packit-service.yaml), C(fedora.toml), C(centpkg-sig.conf), C(ssh_config)), takes their
    secret values into a new C(values_file) (mode 0600; never overwritten) - the vault's keys
    of C(packit-service.yaml) (C(authentication), C(webhook_secret), ...), the queue of
    C(fedora.toml), the token of C(centpkg-sig.conf), and on dev the developer's C(fas_user)
    and C(admins).
  - Renders the templates of config/ with those values and returns every setting in which
    they differ from the files read (secret values masked), for a pull request to the
    templates or a change of the deployment's vars.
options:
  source: {description: The directory with the rendered files., type: path, required: true}
  values_file: {description: The values file to write; it must not exist., type: path, required: true}
  names: {description: The configuration files to read (those of C(source) that exist)., type: list, elements: str, required: true}
  dirs:
    description: Where the templates are looked for, the first directory that has one.
    type: list
    elements: path
    required: true
  deployment: {description: The deployment (dev takes the developer's accounts too)., type: str, required: true}
notes:
  - In check mode nothing is written; the comparison is made all the same.
"""

EXAMPLES = r"""
- name: Import the rendered configuration of upstream's stg
  packit.deployment.import_config:
    source: secrets/packit/stg
    values_file: secrets/packit/stg/values.yml
    names: [packit-service.yaml, fedora.toml, centpkg-sig.conf, ssh_config]
    dirs: [config/packit/stg, config/packit, config]
    deployment: stg
  no_log: true
"""

RETURN = r"""
values_file: {description: The values file written., type: str, returned: success}
taken: {description: The top-level keys of the values file., type: list, elements: str, returned: success}
imported: {description: The files read., type: list, elements: str, returned: success}
same: {description: The files the templates render to the same settings., type: list, elements: str, returned: success}
differences: {description: One line per setting that differs (secret values masked)., type: list, elements: str, returned: success}
"""
