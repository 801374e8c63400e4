"""The kwok stages: what the fake kubelet does to nodes and pods. They live in
local-cluster/kwok-stages/*.yaml (one YAML list of Stage objects per file, read in name
order); a start writes them, with the pinned versions filled in, to the kwok controller's
config file."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from localcluster import ClusterError, pins
from localcluster.layout import Layout

STAGES_DIR = pins.GO_MODULE_DIR / "kwok-stages"
# ${NAME} in a stage file: the value of pins.NAME.
VARIABLES = {"KUBERNETES_VERSION": pins.KUBERNETES_VERSION, "KWOK_VERSION": pins.KWOK_VERSION}


def load_stages(directory: Path = STAGES_DIR) -> list[dict]:
    """Every Stage object of the files in `directory`, in order."""
    stages: list[dict] = []
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise ClusterError(f"no kwok stages in {directory}")
    for path in paths:
        text = path.read_text()
        unknown = sorted(set(re.findall(r"\$\{(\w+)\}", text)) - set(VARIABLES))
        if unknown:
            raise ClusterError(f"{path}: unknown variable {', '.join(unknown)}; known: {', '.join(VARIABLES)}")
        for name, value in VARIABLES.items():
            text = text.replace("${" + name + "}", value)
        body = yaml.safe_load(text)
        if not isinstance(body, list) or not all(isinstance(s, dict) and s.get("kind") == "Stage" for s in body):
            raise ClusterError(f"{path}: not a YAML list of kwok Stage objects")
        stages.extend(body)
    return stages


def write_kwok_config(layout: Layout) -> None:
    """The kwok controller's --config file: every stage, one YAML document each."""
    layout.kwok_config.write_text(yaml.safe_dump_all(load_stages(), sort_keys=False))
