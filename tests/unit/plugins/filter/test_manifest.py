"""The manifest_* filters: the objects without Secrets, and the text of a manifest file."""

from __future__ import annotations

from tests.support.moduletools import load

manifest = load("filter", "manifest")


def test_the_objects_without_secrets_keep_their_order():
    objects = [{"kind": "Service", "metadata": {"name": "a"}}, {"kind": "Secret", "metadata": {"name": "s"}}, {},
               "not an object", {"kind": "Deployment", "metadata": {"name": "b"}}]
    assert manifest.manifest_without_secrets(objects) == [objects[0], objects[4]]
    assert manifest.manifest_without_secrets(None) == []


def test_a_manifest_is_one_document_per_object_keys_as_written_and_text_blocks_literal():
    objects = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"f": "x\ny\n", "n": "1"}},
               {"kind": "Service", "spec": {"ports": [{"port": 80}]}, "apiVersion": "v1"}]
    assert manifest.manifest_yaml(objects) == (
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  f: |\n    x\n    y\n  n: '1'\n"
        "---\nkind: Service\nspec:\n  ports:\n  - port: 80\napiVersion: v1\n")
