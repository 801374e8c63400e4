"""module_utils/images.py: ImageStreamImport answers, and the images a stream tag names."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

images = load("module_utils", "images")
k8s = load("module_utils", "k8s")


def test_an_import_failure_is_one_line_naming_stream_and_source():
    answer = {"status": {"images": [{"status": {"status": "Failure", "message": "manifest unknown"}}]}}
    with pytest.raises(k8s.K8sError, match="^ImageStream postgres: import of q/p:16 failed: manifest unknown$"):
        images.imported_reference(answer, "postgres", "q/p:16")
    ok = {"status": {"images": [{"status": {"status": "Success"}, "image": {"dockerImageReference": "r@sha256:1"}}]}}
    assert images.imported_reference(ok, "postgres", "q/p:16") == "r@sha256:1"


def test_a_running_image_matches_its_stream_tag_by_digest():
    """The trigger writes the internal registry's pull spec (reference policy Local) while the
    stream's history names the source registry's: the same digest is the same image."""
    internal = "image-registry.openshift-image-registry.svc:5000/packit-dev/api@sha256:1"
    assert images.same_image(internal, "quay.io/packit/api@sha256:1")
    assert not images.same_image(internal, "quay.io/packit/api@sha256:2")
    assert images.same_image("quay.io/packit/api:stg", "quay.io/packit/api:stg")  # before any import
    assert not images.same_image("quay.io/packit/api:stg", "quay.io/packit/api@sha256:1")


def test_a_pin_names_the_source_registry_of_the_running_digest():
    stream = {"status": {"tags": [
        {"tag": "other", "items": [{"image": "sha256:3", "dockerImageReference": "quay.io/packit/api@sha256:3"}]},
        {"tag": "dev", "items": [{"image": "sha256:2", "dockerImageReference": "quay.io/packit/api@sha256:2"},
                                 {"image": "sha256:1", "dockerImageReference": "quay.io/packit/api@sha256:1"}]},
    ]}}
    internal = "image-registry.openshift-image-registry.svc:5000/packit-dev/api@sha256:"
    assert images.source_reference(stream, "dev", internal + "1") == "quay.io/packit/api@sha256:1"
    assert images.source_reference(stream, "dev", internal + "3") == "quay.io/packit/api@sha256:3"
    # no longer recorded (or never imported): the reference as given
    assert images.source_reference(stream, "dev", internal + "9") == internal + "9"
    assert images.source_reference({}, "dev", "quay.io/packit/api@sha256:1") == "quay.io/packit/api@sha256:1"
