"""The get-pip script of ansible-test, from pip's own wheel.

ansible-test bootstraps pip into each sanity test's virtual environment with a script it
downloads from ci-files.testing.ansible.com (get-pip-<version>.py), a host not reachable from
where this repository is tested. make sanity (mk/sanity.mk) puts this file in its place,
ansible-test's cache (~/.ansible/test/cache/get_pip_<version>.py), beside the wheel of that pip
version (from PyPI, checked by its hash). Run by ansible-test as get-pip.py is: the arguments
are pip's install arguments (pip==<version>, pip's own options) and --no-setuptools and
--no-wheel, which this script needs not, as it installs only what it is asked for.
"""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OWN_OPTIONS = ("--no-setuptools", "--no-wheel")


def wheel_of(requirement: str) -> str:
    """The wheel beside this script for a pip==<version> requirement."""
    return os.path.join(HERE, f"pip-{requirement.removeprefix('pip==')}-py3-none-any.whl")


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg not in OWN_OPTIONS]
    wheels = {arg: wheel_of(arg) for arg in args if arg.startswith("pip==")}
    if len(wheels) != 1 or not os.path.isfile(next(iter(wheels.values()))):
        sys.stderr.write(f"get-pip: no wheel for {', '.join(wheels) or 'pip'} in {HERE}: make sanity puts it there\n")
        return 1
    wheel = next(iter(wheels.values()))
    # pip runs from its wheel (`python pip.whl/pip install ...`, as pip documents), in this Python.
    command = [sys.executable, os.path.join(wheel, "pip"), "install", "--upgrade", "--force-reinstall",
               *(wheels.get(arg, arg) for arg in args)]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
