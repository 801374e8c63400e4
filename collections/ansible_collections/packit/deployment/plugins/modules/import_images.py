#!/usr/bin/python
"""Import the registry image of each ImageStream of a service deployment (the ImageStreamImport `oc import-image` posts)."""
from __future__ import annotations

DOCUMENTATION = r"""
module: import_images
short_description: Create one ImageStreamImport per ImageStream of a service deployment
author: Packit team (@packit)
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
  deployment:
    description: dev, stg or prod; also the tag imported.
    type: str
    required: true
  images: {description: Only these streams (default all of the deployment's)., type: list, elements: str, default: []}
extends_documentation_fragment: [kubernetes.core.k8s_auth_options]
notes:
  - community.okd.openshift_import_image posts the same ImageStreamImport, but sets the import
    and reference policies from its own options; this module keeps each tag's own policies (the
    scheduled import set by the deploy) and reports per stream whether the tag moved.
"""

EXAMPLES = r"""
- name: Import the prod images of every packit stream now
  packit.deployment.import_images:
    namespace: packit-prod
    service: packit
    deployment: prod

- name: Import only the worker's image
  packit.deployment.import_images:
    namespace: packit-prod
    service: packit
    deployment: prod
    images: [packit-worker]
"""

RETURN = r"""
imports:
  description: Per stream, what was requested and what the server reported.
  type: list
  elements: dict
  returned: success
lines:
  description: One line per stream for the log.
  type: list
  elements: str
  returned: success
"""

from ansible_collections.packit.deployment.plugins.module_utils.images import (
    build_import, imported_reference, post_import, stream_tag,
)
from ansible_collections.packit.deployment.plugins.module_utils.k8s import NAMESPACE_ARG, K8sError, list_objects, run


def import_images(module, client) -> dict:
    p = module.params
    selector = f"app.kubernetes.io/part-of={p['service']},app.kubernetes.io/instance={p['service']}-{p['deployment']}"
    streams = {s["metadata"]["name"]: s for s in list_objects(client, "image.openshift.io/v1", "ImageStream", p["namespace"], selector)}
    wanted = [i for i in p["images"] if i]
    missing = [i for i in wanted if i not in streams]
    if missing:
        raise K8sError(f"ImageStream {', '.join(missing)}: not found in {p['namespace']} with labels {selector}")
    if not streams:
        raise K8sError(f"no ImageStreams in {p['namespace']} with labels {selector}")
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
        _tag, before = stream_tag(streams[name], p["deployment"])
        imported = imported_reference(post_import(client, body), name, image["from"]["name"])
        entry["imported"] = imported
        entry["result"] = "imported" if imported != before else "unchanged"
        changed = changed or imported != before
        imports.append(entry)
    lines = [f"{i['stream']}:{i['tag']} <- {i['from']} ({i['result']}"
             f"{', scheduled' if i['importPolicy'].get('scheduled') else ''})" for i in imports]
    return {"changed": changed, "imports": imports, "lines": lines}


def main() -> None:
    run(dict(NAMESPACE_ARG, service={"type": "str", "required": True}, deployment={"type": "str", "required": True},
             images={"type": "list", "elements": "str", "default": []}), import_images)


if __name__ == "__main__":
    main()
