"""containers/Containerfile, read as text (no container engine here): what it copies exists,
its dependencies come from requirements.txt, and the entry point it names is there."""
from __future__ import annotations

import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTAINERFILE = REPO / "containers" / "Containerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result, pending = [], ""
    for raw in CONTAINERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def test_every_copied_path_exists_in_the_repository():
    copies = [args for keyword, args in instructions() if keyword == "COPY"]
    assert copies, "the Containerfile copies nothing"
    for args in copies:
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        for source in parts[:-1]:
            assert (REPO / source).exists(), f"COPY source {source} is not in the repository"


def test_playbooks_roles_scripts_and_cron_jobs_are_copied():
    copied = {shlex.split(args)[0].rstrip("/") for keyword, args in instructions() if keyword == "COPY"}
    assert {"requirements.txt", "playbooks", "roles", "collections", "scripts", "cron-jobs"} <= copied


def test_pip_installs_the_pinned_requirements_before_the_code():
    steps = instructions()
    runs = [i for i, (keyword, args) in enumerate(steps) if keyword == "RUN" and "pip install" in args]
    assert runs, "no pip install"
    assert "--requirement requirements.txt" in steps[runs[0]][1] or "-r requirements.txt" in steps[runs[0]][1]
    copy_req = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and a.startswith("requirements.txt"))
    copy_code = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and a.startswith("roles/"))
    assert copy_req < runs[0] < copy_code


def test_base_image_and_non_root_user():
    steps = instructions()
    assert steps[0][0] == "FROM" and ("ubi" in steps[0][1] or "fedora" in steps[0][1])
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users and users[-1] != "0" and users[-1] != "root"


def test_entrypoint_and_cron_job_are_executable():
    for path in ("containers/entrypoint.sh", "cron-jobs/import-images/run.sh"):
        assert (REPO / path).stat().st_mode & 0o111, f"{path} is not executable"
    cron_playbook = REPO / "cron-jobs" / "import-images" / "import-images.yml"
    assert "tasks_from: import_images" in cron_playbook.read_text()
