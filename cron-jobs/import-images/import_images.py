#!/usr/bin/env python3
"""The import CronJob's job: import the registry images of the deployment's ImageStreams now,
through the cluster API, as make import-images does.

It runs in a pod of the packit-worker image (published, and an ImageStream of the deployment
already), from the ConfigMap import-images that holds this file and streamimport.py (the
collection's module_utils/streamimport.py), with the standard library only. Its identity is
the pod's service account.

    SERVICE, DEPLOYMENT  the streams (labels app.kubernetes.io/part-of and /instance)
    PROJECT              their namespace (default: the pod's own)
    IMAGES               optional comma-separated subset of streams
    KUBERNETES_API, KUBERNETES_TOKEN_FILE, KUBERNETES_CA_FILE
                         the API server, a file with the token and the CA bundle, to run it
                         outside a pod (default: the pod's service account)

Exit status: 0 when every stream imported (or was unchanged), 1 when an import failed, 2 on
bad input; one line per stream on stdout, one line per failure on stderr.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from streamimport import StreamImportError, build_import, imported_reference

ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
CONFLICT_ATTEMPTS = 5  # the image stream controller may write the stream while it imports


class ApiError(Exception):
    pass


class Api:
    def __init__(self, server: str, token: str, ca_file: str) -> None:
        self.server, self.token = server.rstrip("/"), token
        self.context = ssl.create_default_context(cafile=ca_file)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.server + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=60) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("message", exc.reason)
            except ValueError:
                message = exc.reason
            return exc.code, {"message": message}
        except (urllib.error.URLError, OSError) as exc:
            raise ApiError(f"cannot reach the API server at {self.server}: {exc}") from exc


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def tag_image(stream: dict, tag: str) -> str:
    for status_tag in (stream.get("status") or {}).get("tags") or []:
        if status_tag.get("tag") == tag and status_tag.get("items"):
            return status_tag["items"][0].get("dockerImageReference", "")
    return ""


def import_one(api: Api, stream: dict, deployment: str) -> str:
    body, image = build_import(stream, deployment)
    meta = body["metadata"]
    path = f"/apis/image.openshift.io/v1/namespaces/{meta['namespace']}/imagestreamimports"
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        status, answer = api.call("POST", path, body)
        if status < 300:
            reference = imported_reference(answer, meta["name"], image["from"]["name"])
            result = "unchanged" if reference == tag_image(stream, deployment) else "imported"
            return f"{meta['name']}:{deployment} <- {image['from']['name']}: {result} {reference}"
        if status != 409 or attempt == CONFLICT_ATTEMPTS:
            raise StreamImportError(f"ImageStream {meta['name']}: the API refused the import ({status}): "
                                    f"{answer.get('message')}")
        time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def main() -> int:
    service, deployment = os.environ.get("SERVICE", ""), os.environ.get("DEPLOYMENT", "")
    if service not in ("packit", "stream") or deployment not in ("dev", "stg", "prod"):
        print(f"SERVICE={service} DEPLOYMENT={deployment}: SERVICE must be packit or stream, DEPLOYMENT "
              "dev, stg or prod", file=sys.stderr)
        return 2
    try:
        namespace = os.environ.get("PROJECT") or read(f"{ACCOUNT}/namespace")
        server = os.environ.get("KUBERNETES_API") or \
            f"https://{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ['KUBERNETES_SERVICE_PORT']}"
        api = Api(server, read(os.environ.get("KUBERNETES_TOKEN_FILE", f"{ACCOUNT}/token")),
                  os.environ.get("KUBERNETES_CA_FILE", f"{ACCOUNT}/ca.crt"))
    except (OSError, KeyError) as exc:
        print(f"no API server or service account: {exc} (outside a pod, set KUBERNETES_API, "
              "KUBERNETES_TOKEN_FILE and KUBERNETES_CA_FILE)", file=sys.stderr)
        return 2
    selector = f"app.kubernetes.io/part-of={service},app.kubernetes.io/instance={service}-{deployment}"
    try:
        status, found = api.call("GET", f"/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams?"
                                 + urllib.parse.urlencode({"labelSelector": selector}))
    except ApiError as exc:
        print(exc, file=sys.stderr)
        return 1
    if status >= 300:
        print(f"cannot list the ImageStreams of {namespace} ({status}): {found.get('message')}", file=sys.stderr)
        return 1
    streams = {s["metadata"]["name"]: s for s in found.get("items") or []}
    wanted = [name for name in os.environ.get("IMAGES", "").split(",") if name.strip()]
    missing = [name for name in wanted if name not in streams]
    if missing or not streams:
        print(f"ImageStream {', '.join(missing) or '(any)'}: not found in {namespace} with labels {selector}",
              file=sys.stderr)
        return 2
    failed = 0
    for name in wanted or sorted(streams):
        try:
            print(import_one(api, streams[name], deployment), flush=True)
        except (StreamImportError, ApiError) as exc:
            print(exc, file=sys.stderr, flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
