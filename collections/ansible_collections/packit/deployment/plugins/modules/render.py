"""Documentation of the render action (plugins/action/render.py); it runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
module: render
short_description: Render the templates of some components into Kubernetes objects
author: Packit team (@packit)
description:
  - Renders C(<template_dir>/<component>.yml.j2) of each component, in the order given, with
    Ansible's templar over the task's variables plus C(component), and parses each result as a
    YAML stream of objects.
  - An action that runs on the controller, where the templates, the vars files and the secret
    files are; each template is rendered once per task.
options:
  components: {description: The components to render (their templates' names)., type: list, elements: str, required: true}
  template_dir: {description: The directory of the templates (openshift/)., type: path, required: true}
  redact_secrets:
    description: Replace every Secret value in C(objects) by a marker (the real ones are in C(secrets)).
    type: bool
    default: true
  return_secrets:
    description: Return C(secrets). Without, a failure can be shown without no_log.
    type: bool
    default: true
  config:
    description:
      - The apps' configuration (config/ of the repository) - first rendered with the values of
        C(values_file) (an ansible-vault encrypted file is decrypted with the run's vault
        password), given to the component templates as C(deploy_app_config) (name to text), and
        rendered once more with each value replaced by its name for review (C(config)).
      - A YAML configuration that sets a key twice (by the template and by the values file) is
        refused.
    type: dict
    suboptions:
      names: {description: The configurations (a template <name>.j2 each)., type: list, elements: str, default: []}
      dirs:
        description: Where a template is looked for, the first directory that has it.
        type: list
        elements: path
        required: true
      values_file: {description: The YAML file of values the templates take as C(values)., type: path, required: true}
      display: {description: How messages name the values file (default its path)., type: str, default: ""}
  secret_files:
    description:
      - Secret name to the file its keys come from, for the message that refuses a rendered Secret
        lacking a key that a rendered container reads from it (C(secretKeyRef)).
    type: dict
    default: {}
notes:
  - The template lookup in a loop renders the same, but deep-copies every variable of the play
    for each template; on the packit stack that copy took most of the render time.
  - Give the task C(no_log) when it returns C(secrets), or when C(redact_secrets) is false.
"""

EXAMPLES = r"""
- name: Render the selected components (the Secrets are in the result)
  packit.deployment.render:
    components: [secrets, redis, packit-service]
    template_dir: "{{ playbook_dir | dirname }}/openshift"
  register: rendered
  no_log: true
"""

RETURN = r"""
objects:
  description: Component to its objects, in the order given; Secret values redacted unless redact_secrets is false.
  type: dict
  returned: success
secrets:
  description: Component to its Secrets, with the real values.
  type: dict
  returned: success and return_secrets
masked:
  description: The values of the values file to mask where an app configuration is shown (secret).
  type: list
  elements: str
  returned: success and return_secrets
plan:
  description: Component to the identity (apiVersion, kind, namespace, name) of each of its objects.
  type: dict
  returned: success
config:
  description: Configuration name to C(template) (its path) and C(text) (rendered with each value's name, not the value).
  type: dict
  returned: success
workloads:
  description: The identity of every Deployment, StatefulSet and DeploymentConfig rendered, in order.
  type: list
  elements: dict
  returned: success
"""
