"""The keys of the real node's images (localcluster.nodeimages): a change of a pinned package,
of the config or of a file's contents gives a new key, nothing else does (no build, no network)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from localcluster import nodeimages


@pytest.fixture
def images_dir(tmp_path: Path, monkeypatch) -> Path:
    """A node-images/ of its own, holding the files of every recipe (copies of the real ones)."""
    for recipe in nodeimages.IMAGES:
        for path, _ in recipe.files:
            target = tmp_path / (recipe.files_dir or recipe.name) / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(nodeimages.source_file(recipe, path).read_bytes())
    monkeypatch.setattr(nodeimages, "NODE_IMAGES_DIR", tmp_path)
    return tmp_path


def test_every_recipe_is_pinned_and_its_files_exist():
    assert [recipe.name for recipe in nodeimages.IMAGES] == [
        "postgres", "postgres-17", "redis", "valkey", "nginx", "pushgateway"]
    for recipe in nodeimages.IMAGES:
        assert recipe.references and all("=" in package for package in recipe.packages), recipe.name
        for path, _ in recipe.files:
            assert nodeimages.source_file(recipe, path).is_file(), path
        assert dict(recipe.env)["PATH"]


def test_the_key_is_stable_and_differs_between_images(images_dir: Path):
    keys = [nodeimages.image_key(recipe) for recipe in nodeimages.IMAGES]
    assert keys == [nodeimages.image_key(recipe) for recipe in nodeimages.IMAGES]
    assert len(set(keys)) == len(keys) and all(len(key) == 16 for key in keys)


def test_a_package_version_or_a_config_change_gives_a_new_key(images_dir: Path):
    redis = nodeimages.recipe("redis")
    key = nodeimages.image_key(redis)
    newer = tuple(package.replace("deb12u10", "deb12u11") for package in redis.packages)
    assert nodeimages.image_key(dataclasses.replace(redis, packages=newer)) != key
    assert nodeimages.image_key(dataclasses.replace(redis, user="1002")) != key
    assert nodeimages.image_key(dataclasses.replace(redis, suite="trixie")) != key
    assert nodeimages.image_key(dataclasses.replace(redis)) == key


def test_a_changed_script_changes_its_image_key_only(images_dir: Path):
    before = {recipe.name: nodeimages.image_key(recipe) for recipe in nodeimages.IMAGES}
    script = images_dir / "redis" / "usr" / "bin" / "run-redis"
    script.write_text(script.read_text() + "# changed\n")
    after = {recipe.name: nodeimages.image_key(recipe) for recipe in nodeimages.IMAGES}
    assert after["redis"] != before["redis"]
    assert {name: key for name, key in after.items() if name != "redis"} == \
        {name: key for name, key in before.items() if name != "redis"}


def test_the_postgres_versions_share_their_scripts_and_differ_in_version_and_suite(images_dir: Path):
    """PostgreSQL 15 (bookworm) and 17 (trixie): the same start scripts, which read
    POSTGRESQL_VERSION; so a changed script gives both images a new key."""
    old, new = nodeimages.recipe("postgres"), nodeimages.recipe("postgres-17")
    assert (old.suite, new.suite) == ("bookworm", "trixie")
    assert dict(old.env)["POSTGRESQL_VERSION"] == "15" and dict(new.env)["POSTGRESQL_VERSION"] == "17"
    assert dict(new.env)["PATH"].startswith("/usr/lib/postgresql/17/bin:")
    assert new.references == ("quay.io/sclorg/postgresql-17-c9s:c9s",)
    assert nodeimages.source_file(old, "/usr/bin/run-postgresql") == nodeimages.source_file(new, "/usr/bin/run-postgresql")
    keys = (nodeimages.image_key(old), nodeimages.image_key(new))
    script = images_dir / "postgres" / "usr" / "bin" / "run-postgresql"
    script.write_text(script.read_text() + "# changed\n")
    assert all(a != b for a, b in zip(keys, (nodeimages.image_key(old), nodeimages.image_key(new))))


def test_the_crane_flags_carry_the_config():
    flags = nodeimages.config_flags(nodeimages.recipe("nginx"))
    assert "--entrypoint=/docker-entrypoint.sh" in flags
    assert "--cmd=nginx,-g,daemon off;" in flags
    assert "--user=101" in flags and "--exposed-ports=8080/tcp" in flags
    assert nodeimages.flag_list(("a,b", "c")) == '"a,b",c'


def test_a_path_through_an_absolute_symlink_of_the_image_is_refused(tmp_path: Path):
    """/var/run -> /run in a Debian root filesystem would resolve on the build host."""
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "run").symlink_to("/run")
    assert nodeimages.inside(tmp_path, "/var/lib/x") == tmp_path / "var" / "lib" / "x"
    with pytest.raises(RuntimeError, match="/var/run/postgresql of the image leads out of its root filesystem"):
        nodeimages.inside(tmp_path, "/var/run/postgresql")
