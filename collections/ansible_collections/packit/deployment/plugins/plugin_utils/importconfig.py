"""Moving an operator's rendered app configuration (upstream packit/deployment's secrets
directory: packit-service.yaml, fedora.toml, centpkg-sig.conf, ssh_config) to values.yml and
the reviewed templates of config/: which values to take, and how a rendered file differs from
the operator's (plain Python; the import_config action renders and writes)."""

from __future__ import annotations

import configparser
import tomllib
from typing import Any

from ansible_collections.packit.deployment.plugins.module_utils.appconfig import mask

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    yaml = None

# The keys of packit-service.yaml whose values are secret (or known only to the vault):
# upstream takes them from its vault (vault.packit_service, the forges of Bitwarden,
# vault.logdetective); they go to values.yml's packit_service.
SECRET_KEYS = ("authentication", "webhook_secret", "testing_farm_secret", "internal_testing_farm_secret",
               "fas_password", "gitlab_token_secret", "logdetective_url", "logdetective_token",
               "redhat_api_refresh_token", "github_token", "pagure_user_token")
# On dev, the developer's own accounts (values.yml's developer).
DEVELOPER_KEYS = ("fas_user", "admins")


class ConfigImportError(ValueError):
    """A file that cannot be read or taken apart: the one line to show."""


def parse(name: str, text: str) -> Any:
    """The content of a configuration file as data (YAML, TOML, INI; ssh_config as its lines)."""
    try:
        if name.endswith((".yaml", ".yml")):
            return yaml.safe_load(text) or {}
        if name.endswith(".toml"):
            return tomllib.loads(text)
        if name.endswith(".conf"):
            ini = configparser.ConfigParser(interpolation=None)
            ini.read_string(text)
            return {section: dict(ini[section]) for section in ini.sections()}
    except (yaml.YAMLError, tomllib.TOMLDecodeError, configparser.Error) as exc:
        raise ConfigImportError(f"{name} cannot be parsed: {' '.join(str(exc).split())}") from exc
    return [" ".join(line.split()) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def values_from(files: dict[str, Any], deployment: str) -> dict[str, Any]:
    """values.yml for the parsed files (name -> data)."""
    values: dict[str, Any] = {}
    service = files.get("packit-service.yaml")
    if service is not None:
        if not isinstance(service, dict):
            raise ConfigImportError("packit-service.yaml is not a mapping")
        values["packit_service"] = {k: service[k] for k in SECRET_KEYS if k in service}
        if deployment == "dev":
            values["developer"] = {k: service[k] for k in DEVELOPER_KEYS if k in service}
    fedora = files.get("fedora.toml")
    if fedora is not None:
        queue = ((fedora.get("bindings") or [{}])[0]).get("queue") or next(iter(fedora.get("queues") or {}), "")
        if not queue:
            raise ConfigImportError("fedora.toml names no queue (bindings[0].queue)")
        values["fedora_messaging"] = {"queue": queue}
    sig = files.get("centpkg-sig.conf")
    if sig is not None:
        token = (sig.get("centpkg-sig.distgit") or {}).get("token")
        if not token:
            raise ConfigImportError("centpkg-sig.conf has no token in [centpkg-sig.distgit]")
        values["centpkg_sig"] = {"token": token}
    return values


def flatten(data: Any, path: str = "") -> dict[str, Any]:
    """Dotted path -> scalar or list of scalars."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        out = {}
        for n, value in enumerate(data):
            out.update(flatten(value, f"{path}[{n}]"))
        return out
    return {path: data}


def differences(name: str, theirs: Any, ours: Any, secrets: list[str]) -> list[str]:
    """One line per setting in which the operator's file and the render differ, values shown
    unless they are among the secrets."""
    def show(value: Any) -> str:
        return mask(str(value), secrets)

    if isinstance(theirs, list) and isinstance(ours, list):  # ssh_config: lines
        return ([f"{name}: only yours: {line}" for line in theirs if line not in ours]
                + [f"{name}: only ours: {line}" for line in ours if line not in theirs])
    a, b = flatten(theirs), flatten(ours)
    lines = []
    for key in sorted(set(a) | set(b)):
        if key not in b:
            lines.append(f"{name}: only yours: {key} = {show(a[key])}")
        elif key not in a:
            lines.append(f"{name}: only ours: {key} = {show(b[key])}")
        elif a[key] != b[key] and str(a[key]) != str(b[key]):
            lines.append(f"{name}: {key}: yours {show(a[key])}, ours {show(b[key])}")
    return lines
