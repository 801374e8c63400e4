"""make db-dump, db-restore and db-upgrade on the local control plane, in the namespace packit-db.

PostgreSQL and the Jobs run for real on the local cluster's real node (stand-in images of
PostgreSQL 15 from Debian bookworm and of 17, make db-upgrade's target, from trixie: Debian has
no 16): pg_dump and pg_restore read and write the rows, and a failing script fails its pod
with its own message. The application that reads the database Secret (packit-service-beat)
has no real image: kwok simulates its pod, which is enough to show that the runs stop it
meanwhile and start it again. tests/system/test_postgres_db.py runs the script against
PostgreSQL on loopback, outside the cluster, with the cases a cluster cannot make.

The tests run in file order on one deployment of PostgreSQL and beat, which the second test
deploys into the emptied namespace. Without a real node they are skipped (tests/run.sh
requires it in CI).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kubernetes.dynamic.exceptions import NotFoundError

from localcluster import node
from localcluster.images import UPGRADE_POSTGRES_VERSION
from tests.support.deploytools import REPO, empty_project_namespaces, make_in_project, project_objects, refused, source_image
from tests.support.realnode import RealPods, real_core

pytestmark = pytest.mark.cluster
PROJECT = "packit-db"
EMPTIED_AFTER = (PROJECT,)  # conftest
TAGS = "postgres,packit-service-beat"
SCRIPT = (REPO / "roles" / "day2" / "files" / "postgres-db.sh").read_text()
SECRET_ENV = {"PGDATABASE": "database-name", "PGUSER": "database-user", "PGPASSWORD": "database-password"}
NEW = UPGRADE_POSTGRES_VERSION  # the version db-upgrade moves to
TABLE_STATE = "SELECT count(*), md5(string_agg(note, ',' ORDER BY id)) FROM kept"


@pytest.fixture(scope="module")
def secrets(secrets_dir) -> Path:
    """Every secret file a component reads (conftest)."""
    return secrets_dir


@pytest.fixture(scope="module")
def pods(local_cluster) -> RealPods:
    return RealPods(real_core(local_cluster), PROJECT)


def sql(pods: RealPods, statement: str) -> str:
    """SQL through the postgres Service, from the PostgreSQL pod (its credentials)."""
    return pods.psql(pods.wait_ready("postgres"), statement)


def make(local_cluster, target: str, secrets: Path, extra: str = "", **variables: str):
    return make_in_project(local_cluster, target, secrets, PROJECT, PROJECT, extra, **variables)


def get(admin, api_version: str, kind: str, name: str) -> dict:
    return admin.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=PROJECT).to_dict()


def jobs(admin) -> dict[str, dict]:
    items = admin.resources.get(api_version="batch/v1", kind="Job").get(namespace=PROJECT).to_dict()["items"]
    return {job["metadata"]["name"]: job for job in items}


def objects(admin) -> dict[tuple, tuple]:
    return project_objects(admin, (PROJECT,))


def changed_nothing(result) -> bool:
    return re.search(r"localhost\s+:\s+ok=\d+\s+changed=0\s", result.stdout) is not None


def check_job(job: dict, step: str, file: str, image: str) -> None:
    """A finished Job of the dump script: its command is the script, its env the database
    Secret, its volume the dump claim."""
    assert job["metadata"]["name"].startswith(f"db-{step}-")
    assert job["metadata"]["annotations"]["packit.dev/dump-file"] == file
    assert job["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "packit-deployment"
    assert job["status"]["succeeded"] == 1
    assert any(c["type"] == "Complete" and c["status"] == "True" for c in job["status"]["conditions"])
    spec = job["spec"]
    assert spec["backoffLimit"] == 0
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["bash", "-c", SCRIPT, "postgres-db.sh", step, file]
    assert container["image"] == image
    env = {e["name"]: e for e in container["env"]}
    assert env["PGHOST"]["value"] == "postgres" and env["DUMP_DIR"]["value"] == "/dump"
    for variable, key in SECRET_ENV.items():
        assert env[variable]["valueFrom"]["secretKeyRef"] == {"name": "postgres-secret", "key": key}
    assert pod["volumes"] == [{"name": "dump", "persistentVolumeClaim": {"claimName": "postgres-dump"}}]
    assert container["volumeMounts"] == [{"name": "dump", "mountPath": "/dump"}]


def postgres(admin) -> tuple[list[str], str]:
    """The claims and the image of the PostgreSQL workload."""
    pod = get(admin, "apps/v1", "Deployment", "postgres")["spec"]["template"]["spec"]
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if v.get("persistentVolumeClaim")]
    return claims, pod["containers"][0]["image"]


def test_no_database_job_without_postgres(admin, local_cluster, secrets):
    empty_project_namespaces(admin, local_cluster, (PROJECT,))
    before = objects(admin)
    for target in ("db-dump", "db-upgrade"):
        result = make(local_cluster, target, secrets)
        message = (f"there is no PostgreSQL workload postgres in {PROJECT}: deploy it first "
                   f"(make deploy TAGS=postgres); nothing was changed")
        assert refused(result, message), result.stdout[-3000:]
    switched_off = make(local_cluster, "db-dump", secrets, extra="-e with_postgres=false")
    message = ("packit/dev has no PostgreSQL (with_postgres is false in "
               "vars/packit/dev.yml): there is no database to dump, restore or upgrade")
    assert refused(switched_off, message), switched_off.stdout[-3000:]
    assert objects(admin) == before


def test_restore_without_a_dump_claim_is_refused(admin, pods, local_cluster, secrets):
    deployed = make(local_cluster, "deploy", secrets, TAGS=TAGS)
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    sql(pods, "CREATE TABLE kept (id int PRIMARY KEY, note text); "
              "INSERT INTO kept SELECT i, md5(i::text) FROM generate_series(1, 300) i")
    before = objects(admin)

    unnamed = make(local_cluster, "db-restore", secrets)
    assert unnamed.returncode == 2
    assert unnamed.stderr.startswith("DUMP is not set: name the dump to restore")

    result = make(local_cluster, "db-restore", secrets, DUMP="postgres-15-x.dump")
    message = (f"there is no dump claim postgres-dump in {PROJECT}, so no dump to "
               f"restore: make db-dump creates it with the first dump; nothing was "
               f"changed")
    assert refused(result, message), result.stdout[-3000:]
    assert objects(admin) == before


def test_dump_makes_the_claim_and_a_job_and_leaves_the_apps_running(admin, pods, local_cluster, secrets):
    before = objects(admin)
    _, image = postgres(admin)
    result = make(local_cluster, "db-dump", secrets)
    assert result.returncode == 0, result.stdout[-3000:]
    (name, job), = jobs(admin).items()
    file = job["metadata"]["annotations"]["packit.dev/dump-file"]
    assert re.fullmatch(r"postgres-15-\d{8}-\d{6}\.dump", file)
    check_job(job, "dump", file, image)
    assert f"Job {name}; the file {file} is on claim postgres-dump" in " ".join(result.stdout.split())
    # pg_dump ran on the real node and said what it wrote.
    (pod,) = pods.job_pods(job["metadata"]["name"])
    assert pod.spec.node_name == node.NODE_NAME and pod.status.phase == "Succeeded"
    message = pod.status.container_statuses[0].state.terminated.message
    assert re.fullmatch(rf"dumped database \S+ of PostgreSQL 15\.\d+ \(Debian \S+\) to {re.escape(file)} \(\d+ bytes\)\n", message), message
    claim = get(admin, "v1", "PersistentVolumeClaim", "postgres-dump")
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert claim["metadata"]["labels"]["app.kubernetes.io/instance"] == "packit-dev"
    assert claim["status"]["phase"] == "Bound"
    # The apps kept running: their spec is as it was.
    beat = ("Deployment", PROJECT, "packit-service-beat")
    assert objects(admin)[beat] == before[beat]

    # A dump of one's own name, on the same claim.
    again = make(local_cluster, "db-dump", secrets, DUMP="before-the-upgrade.dump")
    assert again.returncode == 0, again.stdout[-3000:]
    assert {j["metadata"]["annotations"]["packit.dev/dump-file"] for j in jobs(admin).values()} == {
        file, "before-the-upgrade.dump"}
    assert get(admin, "v1", "PersistentVolumeClaim", "postgres-dump")["metadata"]["uid"] == claim["metadata"]["uid"]


def test_restore_stops_the_apps_meanwhile_and_starts_them_again(admin, pods, local_cluster, secrets):
    dumped = sql(pods, TABLE_STATE)
    sql(pods, "DELETE FROM kept WHERE id > 100; UPDATE kept SET note = 'changed' WHERE id = 1")
    assert sql(pods, TABLE_STATE) != dumped
    beat = get(admin, "apps/v1", "Deployment", "packit-service-beat")
    _, image = postgres(admin)
    known = set(jobs(admin))
    result = make(local_cluster, "db-restore", secrets, DUMP="before-the-upgrade.dump")
    assert result.returncode == 0, result.stdout[-3000:]
    (job,) = [j for name, j in jobs(admin).items() if name not in known]
    check_job(job, "restore", "before-the-upgrade.dump", image)
    assert "started again: packit-service-beat" in " ".join(result.stdout.split())
    after = get(admin, "apps/v1", "Deployment", "packit-service-beat")
    # Scaled to 0 and back: two changes of the spec, the replicas as before, no annotation left.
    assert after["metadata"]["generation"] == beat["metadata"]["generation"] + 2
    assert after["spec"]["replicas"] == beat["spec"]["replicas"] == 1
    assert "packit.dev/replicas-before-db-job" not in (after["metadata"].get("annotations") or {})
    # PostgreSQL itself was not stopped; it has the rows of the dump again.
    assert get(admin, "apps/v1", "Deployment", "postgres")["spec"]["replicas"] == 1
    assert sql(pods, TABLE_STATE) == dumped




def kept(admin) -> dict[tuple, tuple]:
    """The objects but the Jobs and their pods, without the spec generation of the workloads (a
    stop and start changes it) and the claims by uid (a pod's use writes the dump claim's status)."""
    return {k: v[:1] + v[2:] if k[0] == "Deployment" else v[:1] if k[0] == "PersistentVolumeClaim" else v
            for k, v in objects(admin).items() if k[0] not in ("Job", "Pod")}


def test_a_failed_restore_starts_the_apps_again(admin, pods, local_cluster, secrets):
    """A dump that is not on the claim: the script fails in its pod, with its own message
    (tests/system/test_postgres_db.py shows a broken dump leaves the database unchanged)."""
    beat = get(admin, "apps/v1", "Deployment", "packit-service-beat")
    before, rows = kept(admin), sql(pods, TABLE_STATE)
    result = make(local_cluster, "db-restore", secrets, DUMP="no-such.dump")
    assert result.returncode != 0
    text = " ".join(result.stdout.split())
    assert re.search(r"Job db-restore-\d{8}-\d{6} \(restore no-such\.dump\) failed: there is no dump no-such\.dump "
                     r"on the dump claim; it has: (postgres-15-\d{8}-\d{6}\.dump, before-the-upgrade\.dump|"
                     r"before-the-upgrade\.dump, postgres-15-\d{8}-\d{6}\.dump); the applications were started again",
                     text), text[-3000:]
    after = get(admin, "apps/v1", "Deployment", "packit-service-beat")
    assert after["spec"]["replicas"] == 1 and after["metadata"]["generation"] == beat["metadata"]["generation"] + 2
    assert "packit.dev/replicas-before-db-job" not in (after["metadata"].get("annotations") or {})
    assert kept(admin) == before
    assert sql(pods, TABLE_STATE) == rows


def test_a_restore_whose_apps_do_not_stop_in_time_starts_them_again(admin, local_cluster, secrets):
    """With no time to wait, the stopped application's pod is still there: the run fails before
    any Job, and what it stopped runs again."""
    beat = get(admin, "apps/v1", "Deployment", "packit-service-beat")
    before = kept(admin)
    result = make(local_cluster, "db-restore", secrets, extra="-e postgres_job_timeout=0",
                  DUMP="before-the-upgrade.dump")
    assert refused(result, "Deployment packit-service-beat still has 1 pods 0s after it was scaled to 0; nothing "
                           "was dumped or restored; the applications were started again"), result.stdout[-3000:]
    after = get(admin, "apps/v1", "Deployment", "packit-service-beat")
    assert after["spec"]["replicas"] == 1 and after["metadata"]["generation"] == beat["metadata"]["generation"] + 2
    assert "packit.dev/replicas-before-db-job" not in (after["metadata"].get("annotations") or {})
    assert kept(admin) == before


def test_deploy_refuses_a_new_major_version_until_db_upgrade(admin, local_cluster, secrets):
    before = objects(admin)
    result = make(local_cluster, "deploy", secrets, extra=f"-e postgres_version={NEW}", TAGS=TAGS)
    message = (f"{PROJECT} keeps PostgreSQL data on claim postgres-15 and has no claim "
               f"postgres-{NEW}: this deploy would start PostgreSQL {NEW} on an empty one")
    assert refused(result, message), result.stdout[-3000:]
    assert objects(admin) == before


def test_upgrade_preview_changes_nothing(admin, local_cluster, secrets):
    before = objects(admin)
    result = make(local_cluster, "db-upgrade", secrets, extra=f"-e postgres_version={NEW} --check")
    assert result.returncode == 0, result.stdout[-3000:]
    assert ("Check mode, nothing changed: would move the database of packit-db from claim postgres-15 to "
            f"PostgreSQL {NEW} on claim postgres-{NEW}") in " ".join(result.stdout.split())
    assert objects(admin) == before


def test_an_upgrade_whose_dump_fails_leaves_postgres_as_it_was(admin, pods, local_cluster, secrets):
    """The database Secret holds another password than the one the running server was started
    with (a rotation without a restart): the new version's pg_dump cannot log in, and the run
    stops before PostgreSQL is switched."""
    claims, image = postgres(admin)
    core, rows = pods.core, sql(pods, TABLE_STATE)
    secret = core.read_namespaced_secret("postgres-secret", PROJECT)
    core.patch_namespaced_secret("postgres-secret", PROJECT, {"stringData": {"database-password": "not-the-servers"}})
    before = {k: v for k, v in kept(admin).items() if k != ("Secret", PROJECT, "postgres-secret")}
    try:
        result = make(local_cluster, "db-upgrade", secrets, extra=f"-e postgres_version={NEW}")
    finally:
        core.patch_namespaced_secret("postgres-secret", PROJECT, {"data": secret.data})
    assert result.returncode != 0
    text = " ".join(result.stdout.split())
    assert re.search(rf"Job db-dump-\d{{8}}-\d{{6}} \(dump postgres-15-to-{NEW}-\d{{8}}-\d{{6}}\.dump\) failed: "
                     r"cannot log in to database \S+ as \S+ on postgres; PostgreSQL was not switched; it and the "
                     r"applications were started again, nothing was lost", text), text[-3000:]
    assert postgres(admin) == (claims, image)
    assert {k: v for k, v in kept(admin).items() if k != ("Secret", PROJECT, "postgres-secret")} == before
    assert sql(pods, TABLE_STATE) == rows
    with pytest.raises(NotFoundError):
        get(admin, "v1", "PersistentVolumeClaim", f"postgres-{NEW}")


def test_upgrade_moves_the_database_to_a_new_claim_and_keeps_the_old(admin, pods, local_cluster, secrets):
    rows = sql(pods, TABLE_STATE)
    old_claim = get(admin, "v1", "PersistentVolumeClaim", "postgres-15")
    service = get(admin, "v1", "Service", "postgres")
    beat = get(admin, "apps/v1", "Deployment", "packit-service-beat")
    known = set(jobs(admin))
    result = make(local_cluster, "db-upgrade", secrets, extra=f"-e postgres_version={NEW}")
    assert result.returncode == 0, result.stdout[-3000:]

    claims, image = postgres(admin)
    assert claims == [f"postgres-{NEW}"] and f"postgresql-{NEW}-c9s" in source_image(admin, PROJECT, image)
    assert get(admin, "apps/v1", "Deployment", "postgres")["status"]["readyReplicas"] == 1
    # No revision of PostgreSQL ever ran the old version on the new claim (it would initialise
    # the claim for 15, where 16 cannot start): the image came before the claim.
    revisions = admin.resources.get(api_version="apps/v1", kind="ReplicaSet").get(namespace=PROJECT).to_dict()["items"]
    on_new = [rs["spec"]["template"]["spec"]["containers"][0]["image"] for rs in revisions
              if f"postgres-{NEW}" in str(rs["spec"]["template"]["spec"].get("volumes"))]
    assert on_new and all(f"postgresql-{NEW}-c9s" in source_image(admin, PROJECT, image) for image in on_new), on_new
    assert get(admin, "v1", "PersistentVolumeClaim", f"postgres-{NEW}")["status"]["phase"] == "Bound"
    # The old claim is there as it was; the Service is the same object, so the apps' address too.
    kept = get(admin, "v1", "PersistentVolumeClaim", "postgres-15")
    assert (kept["metadata"]["uid"], kept["spec"]["volumeName"]) == (
        old_claim["metadata"]["uid"], old_claim["spec"]["volumeName"])
    assert get(admin, "v1", "Service", "postgres")["metadata"]["uid"] == service["metadata"]["uid"]

    new = sorted((j for n, j in jobs(admin).items() if n not in known), key=lambda j: j["metadata"]["name"])
    assert [j["metadata"]["name"].split("-")[1] for j in new] == ["dump", "restore"]
    file = new[0]["metadata"]["annotations"]["packit.dev/dump-file"]
    assert re.fullmatch(rf"postgres-15-to-{NEW}-\d{{8}}-\d{{6}}\.dump", file)
    # Both Jobs run the new version: its pg_dump reads the old server (the registry's tag: the
    # stream imports it only once the old server has stopped), its server gets the dump.
    check_job(new[0], "dump", file, source_image(admin, PROJECT, image).split("@")[0] + ":c9s")
    check_job(new[1], "restore", file, image)
    # The dump finished before the new PostgreSQL was deployed.
    assert new[0]["status"]["completionTime"] <= get(admin, "v1", "PersistentVolumeClaim", f"postgres-{NEW}")[
        "metadata"]["creationTimestamp"]

    after = get(admin, "apps/v1", "Deployment", "packit-service-beat")
    assert after["spec"]["replicas"] == 1 and after["metadata"]["generation"] == beat["metadata"]["generation"] + 2
    assert "The old data stays on claim postgres-15" in " ".join(result.stdout.split())
    # The rows moved: the new server, of the new version, has them as the old one had.
    assert sql(pods, "SHOW server_version").startswith(f"{NEW}.")
    assert sql(pods, TABLE_STATE) == rows
    for job in new:
        assert [pod.spec.node_name for pod in pods.job_pods(job["metadata"]["name"])] == [node.NODE_NAME]


def test_after_the_upgrade_deploy_and_upgrade_change_nothing(admin, local_cluster, secrets):
    before = objects(admin)
    deployed = make(local_cluster, "deploy", secrets, extra=f"-e postgres_version={NEW}", TAGS=TAGS)
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    assert changed_nothing(deployed), deployed.stdout[-3000:]
    upgraded = make(local_cluster, "db-upgrade", secrets, extra=f"-e postgres_version={NEW}")
    assert upgraded.returncode == 0 and changed_nothing(upgraded), upgraded.stdout[-3000:]
    assert f"PostgreSQL {NEW} already keeps its data on claim postgres-{NEW} in packit-db: nothing to do" in " ".join(
        upgraded.stdout.split())
    assert objects(admin) == before


def test_going_back_a_version_is_refused(admin, local_cluster, secrets):
    """postgres-15 is still there, but PostgreSQL runs on postgres-17 now: deploying 15 again
    would start it on the old data without the changes since, and db-upgrade does not go down."""
    before = objects(admin)
    deployed = make(local_cluster, "deploy", secrets, TAGS=TAGS)
    message = (f"Deployment postgres in {PROJECT} keeps its data on claim postgres-{NEW}; "
               f"this deploy would start PostgreSQL 15 on claim postgres-15 instead")
    assert refused(deployed, message), deployed.stdout[-3000:]
    down = make(local_cluster, "db-upgrade", secrets)
    message = (f"PostgreSQL in {PROJECT} keeps its data on claim postgres-{NEW} (version "
               f"{NEW}): postgres_version 15 would be a downgrade")
    assert refused(down, message), down.stdout[-3000:]
    assert objects(admin) == before
    with pytest.raises(NotFoundError):
        get(admin, "apps/v1", "Deployment", "postgres-15")
