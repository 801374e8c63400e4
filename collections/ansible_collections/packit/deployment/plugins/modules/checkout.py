"""Documentation of the checkout action (plugins/action/checkout.py); it runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: checkout
short_description: Warn or fail when a git checkout lacks the newest commit of its remote's default branch
author: Packit team (@packit)
description:
  - Finds the checkout's remote (the remote of the current branch's upstream, else C(origin)) and
    asks it for the commit of its default branch with C(git ls-remote <remote> HEAD); nothing is
    fetched.
  - The checkout is behind when that commit is neither HEAD nor one of its ancestors
    (C(git merge-base --is-ancestor)); a commit the checkout does not have at all counts as
    behind. A checkout that is ahead of the remote is up to date.
  - Behind, it warns, naming the remote, how many commits HEAD lacks (or that it lacks the
    remote's commit) and the command that brings it up to date; with O(on_behind=fail) the task
    fails with that line instead.
  - A checkout without a remote, or a directory that is no git checkout, is no error and says
    nothing. A remote that does not answer within O(timeout) seconds, or answers with an error,
    gives a warning that names it, never a failure. User names and passwords in remote URLs
    are left out of every message.
  - Only reads. An action that runs on the controller, where the checkout is.
options:
  path: {description: A directory of the checkout (its top or any directory in it)., type: path, required: true}
  on_behind:
    description: What a checkout that is behind does to the run.
    type: str
    choices: [warn, fail]
    default: warn
  setting: {description: The variable that turns the check off (named in the message)., type: str, default: check_up_to_date}
  timeout: {description: Seconds the remote has to answer., type: float, default: 10}
requirements: [git]
"""

EXAMPLES = r"""
- name: Refuse a checkout that lacks the newest commit of its remote on prod
  packit.deployment.checkout:
    path: "{{ playbook_dir | dirname }}"
    on_behind: "{{ 'fail' if deployment == 'prod' else 'warn' }}"
  when: check_up_to_date | bool
"""

RETURN = r"""
state:
  description: >-
    C(up to date), C(behind), C(no remote), C(not a checkout), or C(unchecked) (the remote could
    not be asked; see RV(reason)).
  type: str
  returned: success
directory: {description: The directory checked., type: str, returned: success}
remote: {description: The remote asked (a name such as origin); empty without one., type: str, returned: success}
url: {description: The remote's URL without user name and password., type: str, returned: success}
branch:
  description: The remote's default branch (for example C(main)), when the remote names it.
  type: str
  returned: success
commit: {description: The newest commit of the remote's default branch., type: str, returned: success}
head: {description: The checkout's HEAD commit., type: str, returned: success}
behind:
  description: Commits HEAD lacks; null when the checkout does not have the remote's commit (or is not behind).
  type: int
  returned: success
fix: {description: The command that brings the checkout up to date (when behind)., type: str, returned: success}
reason: {description: Why the checkout could not be checked (state unchecked)., type: str, returned: success}
"""
