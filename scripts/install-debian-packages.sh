#!/usr/bin/env bash
# Install the pinned Debian packages listed in $1 (`name=version` lines, # comments),
# doing nothing when every one is already installed at its version.
set -euo pipefail
list="${1:?usage: install-debian-packages.sh FILE}"
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$' || true)
missing=()
for pkg in "${wanted[@]}"; do
    name="${pkg%%=*}"
    version="${pkg#*=}"
    have="$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)"
    [ "$have" = "$version" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "Debian packages: all ${#wanted[@]} present at their pinned versions"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Debian packages missing (${missing[*]}): run 'make system-deps' as root" >&2
    exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -qq
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    # Debian replaces a version when a security update lands; the tests need the program,
    # so take the current one and say loudly which pin to bump.
    names=()
    for pkg in "${missing[@]}"; do
        name="${pkg%%=*}"
        names+=("$name")
        candidate="$(apt-cache policy "$name" | awk '/Candidate:/ {print $2}')"
        echo "WARNING: $pkg is not available; installing $name=$candidate: update $list" >&2
    done
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${names[@]}" >/dev/null
fi
