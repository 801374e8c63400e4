"""Who talks to the cluster with what: a static bearer token per identity (layout.IDENTITIES,
the kube-apiserver's --token-auth-file), a kubeconfig per identity, and connection.yml,
the Ansible vars of the `deployer` identity. Tokens are kept across restarts."""

from __future__ import annotations

import secrets

import yaml

from localcluster.layout import IDENTITIES, Layout
from localcluster.pki import write_private


def ensure_tokens(layout: Layout) -> None:
    """The tokens file, made again (every token new) when an identity lacks a line."""
    if tokens_complete(layout):
        return
    lines = []
    for identity, (user, groups) in IDENTITIES.items():
        token = secrets.token_hex(24)
        group_field = f',"{",".join(groups)}"' if groups else ""
        lines.append(f"{token},{user},{identity}{group_field}")
    write_private(layout.tokens_file, ("\n".join(lines) + "\n").encode())


def tokens_complete(layout: Layout) -> bool:
    """Every identity has a line in the tokens file (a cache from an older version may lack some)."""
    if not layout.tokens_file.exists():
        return False
    users = {line.split(",")[1] for line in layout.tokens_file.read_text().splitlines() if line.count(",") >= 1}
    return all(user in users for user, _ in IDENTITIES.values())


def write_client_files(layout: Layout) -> None:
    """Kubeconfigs for every identity and connection.yml for the deployer."""
    for identity in IDENTITIES:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "local-cluster",
                          "cluster": {"server": layout.host, "certificate-authority": str(layout.ca_cert)}}],
            "users": [{"name": identity, "user": {"token": layout.token(identity)}}],
            "contexts": [{"name": identity, "context": {"cluster": "local-cluster", "user": identity}}],
            "current-context": identity,
        }
        write_private(layout.kubeconfig(identity), yaml.safe_dump(config, sort_keys=False).encode())
    connection = {
        "host": layout.host,
        "api_key": layout.token("deployer"),
        "ca_cert": str(layout.ca_cert),
        "validate_certs": True,
        # The ImageStreams import from the registry on loopback, which mirrors every dev image.
        "image_registry_mirror": layout.registry,
    }
    write_private(layout.connection_vars,
                  ("# Ansible vars: connection of the `deployer` identity to the local cluster,\n"
                   "# and the local registry that mirrors the images.\n"
                   + yaml.safe_dump(connection, sort_keys=False)).encode())
