"""The image_* filters: the references pulled through a registry mirror."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

image = load("filter", "image")


def test_mirror_images():
    refs = {"api": "quay.io/packit/api:stg", "db": "docker.io/library/postgres:15"}
    assert image.image_mirrored(refs, "") == refs
    assert image.image_mirrored(refs, "127.0.0.1:5000/") == {
        "api": "127.0.0.1:5000/quay.io/packit/api:stg", "db": "127.0.0.1:5000/docker.io/library/postgres:15"}
    assert image.image_mirrored(refs, "mirror.example.com/packit")["api"] == \
        "mirror.example.com/packit/quay.io/packit/api:stg"
    with pytest.raises(ValueError, match="image_registry_mirror must be host"):
        image.image_mirrored(refs, "https://mirror.example.com")


def test_the_trigger_annotation_follows_the_stream_tag_and_each_sidecar_its_stream():
    assert image.image_trigger("packit-service:prod", "packit-service", {"fluentd-sidecar": "fluentd"}, "prod") == (
        '[{"from":{"kind":"ImageStreamTag","name":"packit-service:prod"},'
        '"fieldPath":"spec.template.spec.containers[?(@.name==\\"packit-service\\")].image"},'
        '{"from":{"kind":"ImageStreamTag","name":"fluentd:prod"},'
        '"fieldPath":"spec.template.spec.containers[?(@.name==\\"fluentd-sidecar\\")].image"}]')
    assert image.image_trigger("redis:stg", "redis") == (
        '[{"from":{"kind":"ImageStreamTag","name":"redis:stg"},'
        '"fieldPath":"spec.template.spec.containers[?(@.name==\\"redis\\")].image"}]')
