"""Documentation of the check_certs action (plugins/action/check_certs.py); it runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: check_certs
short_description: Check the TLS pairs of a secrets directory for expiry and key mismatch
author: Packit team (@packit)
description:
  - For every TLS pair in C(path) (fullchain.pem + privkey.pem, and centos.cert with certificate
    and key in one file) checks that the certificates are valid for C(days) more days and that
    the key belongs to the certificate; a CA file there (centos-server-ca.cert) is checked for
    expiry. Fails with the first problem, naming the file.
  - The check of C(make check-certs) (scripts/check_certs.py), run on the controller, where the
    secret files are, without a process of its own.
  - Only reads.
options:
  path: {description: The secrets directory., type: path, required: true}
  days: {description: Fail when a certificate expires within this many days., type: int, default: 0}
  hint: {description: What to do about a problem; the failure message is the first problem and this., type: str}
"""

EXAMPLES = r"""
- name: Refuse an expired or mismatched TLS pair
  packit.deployment.check_certs:
    path: secrets/packit/prod
    days: 0
"""

RETURN = r"""
lines:
  description: What was checked, for people (also when the check fails).
  type: list
  elements: str
  returned: always
problems: {description: Every problem found (the first is the failure's message)., type: list, elements: str, returned: always}
"""
