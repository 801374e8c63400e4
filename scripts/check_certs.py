#!/usr/bin/env python3
"""Show the TLS pairs of a deployment's secrets and fail on expiry or mismatch.

For every pair present in the directory (fullchain.pem + privkey.pem, and
centos.cert, which holds certificate and key in one PEM) print the
leaf certificate's subject, SANs, issuer, not-after and days left, and check
that the private key belongs to it. A CA file present (centos-server-ca.cert)
and the rest of a chain are checked for expiry as well.

Exit codes: 0 all good, 1 a certificate is expired, not yet valid, expires
within --days, or does not match its key; 2 bad input (unreadable files, no
pair found, half a pair).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from ansible.plugins.loader import init_plugin_loader

REPO_ROOT = Path(__file__).resolve().parent.parent
# The check itself is the packit.deployment collection's (the deploy runs it too): ansible-core's
# collection loader serves the repository's collections/ directory.
init_plugin_loader([str(REPO_ROOT / "collections")])

from ansible_collections.packit.deployment.plugins.plugin_utils.certs import (  # noqa: E402
    DEFAULT_DAYS, InputError, check_directory)

SERVICES = ("packit", "stream")
DEPLOYMENTS = ("dev", "stg", "prod")


def days_default() -> int:
    value = os.environ.get("DAYS") or str(DEFAULT_DAYS)
    try:
        return int(value)
    except ValueError:
        return -1  # reported by main() with the variable's name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", default=os.environ.get("SERVICE") or "packit",
                        choices=SERVICES)
    parser.add_argument("--deployment", default=os.environ.get("DEPLOYMENT") or None,
                        choices=DEPLOYMENTS)
    parser.add_argument("--root", type=Path, default=REPO_ROOT,
                        help="repository root holding secrets/")
    parser.add_argument("--dir", type=Path, dest="directory",
                        help="check this directory instead of secrets/<service>/<deployment>")
    parser.add_argument("--days", type=int, default=days_default(),
                        help=f"fail when a certificate expires within this many days "
                             f"(default: DAYS or {DEFAULT_DAYS})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.days < 0:
            raise InputError(f"DAYS / --days must be a whole number of days >= 0, "
                             f"got {os.environ.get('DAYS') if args.days == -1 else args.days!r}")
        if args.directory is None:
            if not args.deployment:
                raise InputError("DEPLOYMENT is not set: pass --deployment, set DEPLOYMENT "
                                 "or pass --dir")
            args.directory = args.root / "secrets" / args.service / args.deployment
        report = check_directory(args.directory, args.days, dt.datetime.now(dt.timezone.utc))
    except InputError as exc:
        print(f"check_certs: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines))
    for problem in report.problems:
        print(f"check_certs: {problem}", file=sys.stderr)
    if report.problems:
        return 1
    print(f"OK: every certificate is valid for at least {args.days} more days and matches its key")
    return 0


if __name__ == "__main__":
    sys.exit(main())
