#!/usr/bin/python
"""Import the registry image of each ImageStream of a service deployment (the ImageStreamImport `oc import-image` posts)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: day2_import_images
short_description: Create one ImageStreamImport per ImageStream of a service deployment
description:
  - Lists the ImageStreams labelled app.kubernetes.io/part-of=I(service) and
    app.kubernetes.io/instance=I(service)-I(deployment), and for each one (or each of I(images))
    posts an ImageStreamImport of the same name that imports the tag named I(deployment)
    from its spec.tags C(from) reference, keeping its importPolicy and referencePolicy. The
    API server imports before it answers and stores no ImageStreamImport; the result says
    whether the tag now points at a new image (C(imported)) or the same one (C(unchanged)).
  - Fails naming the stream when a requested stream is missing, has no such tag, or the API refuses the import.
  - In check mode nothing is created; the result lists what would be requested.
options:
  namespace: {description: Namespace of the streams (the deployment's project)., type: str, required: true}
  service: {description: packit or stream., type: str, required: true}
  deployment: {description: dev, stg or prod; also the tag imported., type: str, required: true}
  images: {description: Only these streams (default all of the deployment's)., type: list, elements: str, default: []}
extends_documentation_fragment: [packit_k8s]
"""

RETURN = r"""
imports:
  description: Per stream, what was requested and what the server reported.
  type: list
  returned: always
lines:
  description: One line per stream for the log.
  type: list
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.day2_k8s import (
    CONNECTION_ARGS, HAS_K8S, Day2Error, build_import, connect, imported_reference, list_objects, one_line, post_import,
    stream_tag,
)


def run(module: AnsibleModule) -> dict:
    p = module.params
    client = connect(p)
    selector = f"app.kubernetes.io/part-of={p['service']},app.kubernetes.io/instance={p['service']}-{p['deployment']}"
    streams = {s["metadata"]["name"]: s for s in list_objects(client, "image.openshift.io/v1", "ImageStream", p["namespace"], selector)}
    wanted = [i for i in p["images"] if i]
    missing = [i for i in wanted if i not in streams]
    if missing:
        raise Day2Error(f"ImageStream {', '.join(missing)}: not found in {p['namespace']} with labels {selector}")
    if not streams:
        raise Day2Error(f"no ImageStreams in {p['namespace']} with labels {selector}")
    names = wanted or sorted(streams)
    plans = [(name, *build_import(streams[name], p["deployment"])) for name in names]
    imports, changed = [], False
    for name, body, image in plans:
        entry = {"stream": name, "tag": p["deployment"], "from": image["from"]["name"],
                 "importPolicy": image["importPolicy"], "referencePolicy": image["referencePolicy"]}
        if module.check_mode:
            entry["result"] = "would import"
            changed = True
            imports.append(entry)
            continue
        _, before = stream_tag(streams[name], p["deployment"])
        imported = imported_reference(post_import(client, body), name, image["from"]["name"])
        entry["imported"] = imported
        entry["result"] = "imported" if imported != before else "unchanged"
        changed = changed or imported != before
        imports.append(entry)
    lines = [f"{i['stream']}:{i['tag']} <- {i['from']} ({i['result']}"
             f"{', scheduled' if i['importPolicy'].get('scheduled') else ''})" for i in imports]
    return {"changed": changed, "imports": imports, "lines": lines}


def main() -> None:
    spec = dict(CONNECTION_ARGS, service={"type": "str", "required": True},
                deployment={"type": "str", "required": True},
                images={"type": "list", "elements": "str", "default": []})
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_K8S:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    try:
        module.exit_json(**run(module))
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line
        module.fail_json(msg=one_line(exc))


if __name__ == "__main__":
    main()
