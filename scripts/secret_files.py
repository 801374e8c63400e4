#!/usr/bin/env python3
"""The secret files of a service, from the one table of Secrets (model_secrets).

roles/model/vars/main.yml says which file in secrets/<service>/<deployment>/ feeds which
key of which Secret; make zuul-secrets, make generate-local-secrets and the tests take the
list of files from here instead of keeping their own.

    python -m scripts.secret_files --service packit [--optional]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TABLE = REPO / "roles" / "model" / "vars" / "main.yml"
# Components every deployment of a service runs; files only other components need are optional.
CORE_COMPONENTS = ("secrets", "postgres", "packit-service", "packit-worker")
# The secret values of the app configuration templates (config/ of the repository).
VALUES_FILE = "values.yml"


@dataclass(frozen=True)
class SecretFile:
    name: str        # file in the secrets directory
    secret: str      # the Secret it feeds
    key: str         # the key in that Secret ("" for a mapping file: its keys become the Secret's)
    optional: bool   # only needed while an optional component is on


def secret_table(table: Path = TABLE) -> list[dict]:
    return yaml.safe_load(table.read_text())["model_secrets"]


def secret_files(service: str, table: Path = TABLE) -> list[SecretFile]:
    files: list[SecretFile] = []
    for secret in secret_table(table):
        optional_secret = secret["component"] not in CORE_COMPONENTS
        if secret.get("mapping"):
            files.append(SecretFile(secret["mapping"], secret["name"], "", optional_secret))
            continue
        for entry in secret.get("keys", []):
            if service not in entry.get("services", [service]):
                continue
            conditional = "components" in entry and not set(entry["components"]) & set(CORE_COMPONENTS)
            # A key rendered from the app configuration (config/) takes the values file.
            name = VALUES_FILE if entry.get("config") else entry.get("file", entry["key"])
            files.append(SecretFile(name, secret["name"], "" if entry.get("config") else entry["key"],
                                    optional_secret or conditional))
    # One entry per file: required if any of its uses is.
    merged: dict[str, SecretFile] = {}
    for f in files:
        known = merged.get(f.name)
        merged[f.name] = f if known is None else SecretFile(f.name, known.secret, known.key,
                                                            known.optional and f.optional)
    return list(merged.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", required=True, choices=["packit", "stream"])
    parser.add_argument("--optional", action="store_true", help="mark files only optional components need")
    args = parser.parse_args(argv)
    for f in secret_files(args.service):
        print(f"{f.name}\t{'optional' if f.optional else 'required'}" if args.optional else f.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
