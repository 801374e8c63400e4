"""module_utils/appconfig.py: the values of the app configuration named for review and masked in text, keys set twice, where a template is found."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

appconfig = load("module_utils", "appconfig")


def test_values_are_named_for_review_and_masked_in_text():
    values = {"packit_service": {"token": "abcdef", "list": ["x1234"]}, "n": 7, "flag": True}
    assert appconfig.placeholders(values) == {
        "packit_service": {"token": "<values.yml: packit_service.token>",
                           "list": ["<values.yml: packit_service.list[0]>"]},
        "n": "<values.yml: n>", "flag": "<values.yml: flag>"}
    assert sorted(appconfig.leaves(values)) == ["7", "abcdef", "x1234"]
    assert appconfig.mask("a abcdef x1234 7", appconfig.leaves(values)) == "a <secret> <secret> 7"


def test_keys_set_twice_are_found_at_any_depth():
    assert appconfig.duplicate_keys("a: 1\nb: {c: 1, c: 2}\na: 3\n") == ["b.c", "a"]
    assert appconfig.duplicate_keys("a: [{x: 1}, {x: 2}]\n") == []
    assert appconfig.duplicate_keys("a: [\n") == []


def test_a_configuration_is_found_where_it_is_most_specific(tmp_path):
    for d in ("top", "top/packit", "top/packit/dev"):
        (tmp_path / d).mkdir(exist_ok=True)
    (tmp_path / "top/fedora.toml.j2").write_text("")
    (tmp_path / "top/packit/dev/packit-service.yaml.j2").write_text("")
    (tmp_path / "top/packit/packit-service.yaml.j2").write_text("")
    dirs = [str(tmp_path / d) for d in ("top/packit/dev", "top/packit", "top")]
    assert appconfig.find_config(dirs, "packit-service.yaml") == str(tmp_path / "top/packit/dev/packit-service.yaml.j2")
    assert appconfig.find_config(dirs, "fedora.toml") == str(tmp_path / "top/fedora.toml.j2")
    with pytest.raises(ValueError, match="no template ssh_config.j2"):
        appconfig.find_config(dirs, "ssh_config")


def test_a_masked_diff_shows_the_change_and_no_value():
    before = "debug: true\nwebhook_secret: s3cret-w\nurl: https://x.example\n"
    after = "debug: false\nwebhook_secret: s3cret-w2\nurl: https://x.example\n"
    secrets = appconfig.secret_leaves({"w": "s3cret-w", "w2": "s3cret-w2", "u": "https://x.example", "p": "/a/b"})
    assert secrets == ["s3cret-w", "s3cret-w2"]
    diff = appconfig.masked_diff(before, after, secrets, "packit-service.yaml").splitlines()
    assert diff[:2] == ["--- packit-service.yaml (live)", "+++ packit-service.yaml (new)"]
    assert "-debug: true" in diff and "+debug: false" in diff
    assert "s3cret" not in "\n".join(diff) and " url: https://x.example" in diff
    assert appconfig.masked_diff(before, before, secrets, "x") == ""
