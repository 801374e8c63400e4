"""plugin_utils/importconfig.py: the values of an operator's rendered configuration, and how it differs from the templates."""

from __future__ import annotations

import pytest

from tests.support.moduletools import load

importconfig = load("plugin_utils", "importconfig")


def test_the_values_of_a_rendered_configuration():
    files = {"packit-service.yaml": {"deployment": "dev", "fas_user": "me", "admins": ["a"], "webhook_secret": "w",
                                     "authentication": {"github.com": {"token": "t"}}, "debug": True},
             "fedora.toml": {"bindings": [{"queue": "q-1"}]},
             "centpkg-sig.conf": {"centpkg-sig.distgit": {"token": "g"}}}
    assert importconfig.values_from(files, "dev") == {
        "packit_service": {"authentication": {"github.com": {"token": "t"}}, "webhook_secret": "w"},
        "developer": {"fas_user": "me", "admins": ["a"]},
        "fedora_messaging": {"queue": "q-1"}, "centpkg_sig": {"token": "g"}}
    assert "developer" not in importconfig.values_from(files, "prod")
    with pytest.raises(importconfig.ConfigImportError, match="no token"):
        importconfig.values_from({"centpkg-sig.conf": {}}, "stg")


def test_the_differences_of_two_configurations_hide_the_secrets():
    theirs = {"a": 1, "b": {"c": "s3cret-x"}, "l": [{"x": 1}], "only": "mine"}
    ours = {"a": 2, "b": {"c": "s3cret-y"}, "l": [{"x": 1}], "new": True}
    assert importconfig.differences("f", theirs, ours, ["s3cret-x", "s3cret-y"]) == [
        "f: a: yours 1, ours 2", "f: b.c: yours <secret>, ours <secret>", "f: only ours: new = True",
        "f: only yours: only = mine"]
    assert importconfig.differences("ssh", ["Host x", "User a"], ["Host x", "User b"], []) == [
        "ssh: only yours: User a", "ssh: only ours: User b"]
    assert importconfig.parse("ssh_config", "# c\nHost  x\n\n  User a\n") == ["Host x", "User a"]
