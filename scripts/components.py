#!/usr/bin/env python3
"""List the deploy components: one tag per component (make tags).

The list is the deploy role's deploy_components; each component has the template
openshift/<tag>.yml.j2 and the switch with_<tag with _ for ->.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ROLE_VARS = ROOT / "roles" / "deploy" / "vars" / "main.yml"


def components(role_vars: Path = ROLE_VARS) -> list[str]:
    data = yaml.safe_load(role_vars.read_text())
    return list(data["deploy_components"])


def switch(component: str) -> str:
    return "with_" + component.replace("-", "_")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="also show each tag's template and switch")
    args = parser.parse_args(argv)
    try:
        names = components()
    except (OSError, KeyError, yaml.YAMLError) as exc:
        print(f"{ROLE_VARS}: cannot read deploy_components: {exc}", file=sys.stderr)
        return 1
    for name in names:
        if args.table:
            print(f"{name:26} {'openshift/' + name + '.yml.j2':44} {switch(name)}")
        else:
            print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
