"""`python -m localcluster <command>`: the command line of localcluster.cli."""

import sys

from localcluster.cli import main

if __name__ == "__main__":
    sys.exit(main())
