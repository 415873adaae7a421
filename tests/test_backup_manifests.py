"""The backup role's manifests, rendered for every inventory beside the postgres and app roles'
(tests/playbooks/backup_render.yml): the CronJob, its volume and claim, the scripts' ConfigMap,
the restore Job and the post-restore migration Job.

Each validates strictly against the official schema of the pinned Kubernetes version
(kubernetes-validate: unknown fields fail). Then checks that the pieces fit together: the pods
pass Postgres' NetworkPolicy and use its Service, Secret, database and image; memory comes from
the budget; the volume is the backup directory; the pods meet Pod Security "restricted". Every
checker has a negative test with a deliberately broken manifest.
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from conftest import REPO, inventory_facts, run_playbook

ENVIRONMENTS = ("production", "staging", "sandbox")
DUMP = "onebox-20261121T023000Z.dump"


def kube_version() -> str:
    """The Kubernetes minor of the pinned MicroK8s channel (e.g. "1.36/stable" -> "1.36")."""
    return inventory_facts("production")["microk8s_channel"].split("/")[0]


def render(env: str, out: Path, **extra) -> None:
    result = run_playbook(
        REPO / "tests/playbooks/backup_render.yml",
        "-i",
        str(REPO / "inventories" / env),
        extra_vars={"backup_test_out": str(out), **extra},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """env -> the directory with backup/, postgres/, app/ and forced/ (restore_force=true)."""
    root = tmp_path_factory.mktemp("backup-manifests")
    with ThreadPoolExecutor(max_workers=len(ENVIRONMENTS)) as pool:
        for future in [pool.submit(render, env, root) for env in ENVIRONMENTS]:
            future.result()
    return {env: root / env for env in ENVIRONMENTS}


def load(directory: Path) -> dict[str, dict]:
    """file stem -> object (one object per file in these roles)."""
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted(directory.glob("*.yaml"))}


def cronjob_pod(objects: dict) -> dict:
    return objects["cronjob"]["spec"]["jobTemplate"]["spec"]["template"]


def backup_pods(objects: dict) -> dict[str, dict]:
    return {
        "cronjob": cronjob_pod(objects),
        "restore-job": objects["restore-job"]["spec"]["template"],
        "migrate-job": objects["migrate-job"]["spec"]["template"],
    }


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


# --- checkers (each returns a list of problems) -------------------------------------------------


def check_schema(obj: dict, version: str) -> list[str]:
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}"]
    return []


def check_pod_security(name: str, pod: dict) -> list[str]:
    """Pod Security "restricted" (the namespace warns on it), and no hostPath (baseline refuses)."""
    spec, problems = pod["spec"], []
    pod_ctx = spec.get("securityContext", {})
    if not pod_ctx.get("runAsNonRoot"):
        problems.append(f"{name}: runAsNonRoot is not set")
    if pod_ctx.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append(f"{name}: seccompProfile is not RuntimeDefault")
    for volume in spec.get("volumes", []):
        if "hostPath" in volume:
            problems.append(f"{name}: hostPath volume {volume['name']} (refused by baseline)")
    for container in spec["containers"]:
        ctx = container.get("securityContext", {})
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}/{container['name']}: privilege escalation allowed")
        if ctx.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{name}/{container['name']}: capabilities not dropped")
        if not ctx.get("readOnlyRootFilesystem"):
            problems.append(f"{name}/{container['name']}: writable root filesystem")
    return problems


def check_memory(name: str, pod: dict, expected: str) -> list[str]:
    problems = []
    for container in pod["spec"]["containers"]:
        resources = container.get("resources", {})
        request = resources.get("requests", {}).get("memory")
        limit = resources.get("limits", {}).get("memory")
        if not request == limit == expected:
            problems.append(
                f"{name}/{container['name']}: memory request {request}, limit {limit}; "
                f"the budget says {expected}"
            )
    return problems


def check_reaches_postgres(name: str, pod: dict, postgres: dict) -> list[str]:
    """The pod passes the NetworkPolicy and connects to the Service, database, user and Secret
    that the postgres role renders."""
    problems = []
    policy = postgres["networkpolicy"]["spec"]["ingress"][0]["from"][0]["podSelector"]
    labels = pod["metadata"].get("labels", {})
    if any(labels.get(k) != v for k, v in policy["matchLabels"].items()):
        problems.append(f"{name}: labels {labels} do not pass the NetworkPolicy {policy}")
    if name == "migrate-job":
        return problems  # the app's own settings connect it (checked by the app role's tests)
    env = env_of(pod["spec"]["containers"][0])
    service = postgres["service"]
    server = {e["name"]: e.get("value") for e in env_of_list(postgres["statefulset"])}
    expected = {
        "PGHOST": service["metadata"]["name"],
        "PGPORT": str(service["spec"]["ports"][0]["port"]),
        "PGDATABASE": server["POSTGRES_DB"],
        "PGUSER": server["POSTGRES_USER"],
    }
    for key, value in expected.items():
        if env.get(key) != value:
            problems.append(f"{name}: {key}={env.get(key)!r}, postgres has {value!r}")
    ref = (env.get("PGPASSWORD") or {}).get("secretKeyRef", {})
    secret = postgres["secret"]
    if ref.get("name") != secret["metadata"]["name"] or ref.get("key") not in secret["data"]:
        problems.append(f"{name}: PGPASSWORD {ref} is not a key of Secret {secret['metadata']}")
    return problems


def env_of_list(statefulset: dict) -> list[dict]:
    return statefulset["spec"]["template"]["spec"]["containers"][0]["env"]


def check_volume(objects: dict, host_dir: str) -> list[str]:
    pv, pvc, problems = objects["persistentvolume"], objects["persistentvolumeclaim"], []
    if pv["spec"].get("hostPath") != {"path": host_dir, "type": "Directory"}:
        problems.append(f"PV hostPath {pv['spec'].get('hostPath')} is not {host_dir}")
    if pv["spec"].get("persistentVolumeReclaimPolicy") != "Retain":
        problems.append("PV would be deleted with its claim (not Retain)")
    ref = pv["spec"].get("claimRef", {})
    if (ref.get("namespace"), ref.get("name")) != (
        pvc["metadata"]["namespace"],
        pvc["metadata"]["name"],
    ):
        problems.append(f"PV claimRef {ref} is not the claim {pvc['metadata']}")
    if pvc["spec"].get("volumeName") != pv["metadata"]["name"]:
        problems.append("PVC does not name the PV")
    if pv["spec"].get("storageClassName") != "" or pvc["spec"].get("storageClassName") != "":
        problems.append('storageClassName must be "" on both (else the default class provisions)')
    for name, pod in backup_pods(objects).items():
        if name == "migrate-job":
            continue
        claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"]
                  if "persistentVolumeClaim" in v]  # fmt: skip
        if claims != [pvc["metadata"]["name"]]:
            problems.append(f"{name}: mounts claims {claims}, not {pvc['metadata']['name']}")
    return problems


# --- schema ------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_manifests_validate_strictly_against_the_pinned_kubernetes(rendered, env):
    objects = load(rendered[env] / "backup")
    assert set(objects) == {
        "persistentvolume",
        "persistentvolumeclaim",
        "configmap",
        "cronjob",
        "restore-job",
        "migrate-job",
    }
    problems = [p for obj in objects.values() for p in check_schema(obj, kube_version())]
    assert not problems, "\n".join(problems)


def test_strict_validation_refuses_a_misspelt_field(rendered):
    cronjob = load(rendered["production"] / "backup")["cronjob"]
    broken = copy.deepcopy(cronjob)
    broken["spec"]["concurrencyPolcy"] = "Forbid"
    assert check_schema(broken, kube_version())
    broken = copy.deepcopy(cronjob)
    broken["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["memory"] = "1Gi"
    assert check_schema(broken, kube_version())


# --- the CronJob --------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cronjob_follows_the_inventory(rendered, env):
    cronjob = load(rendered[env] / "backup")["cronjob"]
    settings = inventory_facts(env)
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["schedule"] == settings["backup_schedule"]
    assert spec["timeZone"] == settings["backup_time_zone"]
    container = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/opt/onebox/bin/onebox-backup"]
    args = container["args"]
    assert args[args.index("--keep") + 1] == str(settings["backup_keep"])
    assert args[args.index("--dir") + 1] == container["volumeMounts"][0]["mountPath"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_pods_use_the_postgres_image_and_the_memory_budget(rendered, env):
    objects = load(rendered[env] / "backup")
    postgres = load(rendered[env] / "postgres")
    app = load(rendered[env] / "app")
    budget = inventory_facts(env)["onebox_memory"]["workloads"]
    release_memory = inventory_facts(env)["onebox_app"]["release_memory"]
    postgres_image = postgres["statefulset"]["spec"]["template"]["spec"]["containers"][0]["image"]
    web = app["deployment-web"]["spec"]["template"]["spec"]["containers"][0]
    for name, pod in backup_pods(objects).items():
        image = pod["spec"]["containers"][0]["image"]
        if name == "migrate-job":
            assert image == web["image"]
            assert not check_memory(name, pod, release_memory)
        else:
            assert image == postgres_image, f"{name}: pg_dump must match the server's version"
            assert not check_memory(name, pod, budget["backup"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_pods_reach_postgres_and_meet_pod_security(rendered, env):
    objects = load(rendered[env] / "backup")
    postgres = load(rendered[env] / "postgres")
    problems = []
    for name, pod in backup_pods(objects).items():
        problems += check_reaches_postgres(name, pod, postgres)
        problems += check_pod_security(name, pod)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_volume_is_the_backup_directory(rendered, env):
    objects = load(rendered[env] / "backup")
    problems = check_volume(objects, inventory_facts(env)["onebox_backups"]["host_dir"])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_configmap_holds_the_scripts_unchanged(rendered, env):
    data = load(rendered[env] / "backup")["configmap"]["data"]
    for script in ("onebox-backup", "onebox-restore"):
        assert data[script] == (REPO / "roles/backup/files" / script).read_text()


# --- restore and migration Jobs -----------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_restore_job_protects_data_unless_forced(rendered, env):
    profile = inventory_facts(env)["onebox_app"]
    job = load(rendered[env] / "backup")["restore-job"]
    assert job["spec"]["backoffLimit"] == 0, "a failed restore must not be retried by itself"
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    expected = [
        arg for table in profile["backup"]["reference_tables"] for arg in ("--ignore-table", table)
    ]
    # The dump must be the app's: taken from its database, holding its tables (issue 14).
    app_check = ["--from-database", inventory_facts(env)["onebox_database"]["name"]] + [
        arg for table in profile["backup"]["reference_tables"] for arg in ("--expect-table", table)
    ]
    assert args == [*expected, *app_check, f"/backups/{DUMP}"]

    forced = load(rendered[env] / "forced")["restore-job"]
    assert forced["spec"]["template"]["spec"]["containers"][0]["args"] == [
        *expected,
        *app_check,
        "--force",
        f"/backups/{DUMP}",
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_migration_job_runs_the_after_restore_commands_and_gets_no_traffic(rendered, env):
    job = load(rendered[env] / "backup")["migrate-job"]
    app = load(rendered[env] / "app")
    pod = job["spec"]["template"]
    steps = pod["spec"].get("initContainers", []) + pod["spec"]["containers"]
    after_restore = inventory_facts(env)["onebox_app"]["backup"]["after_restore"]
    assert [c["command"] for c in steps] == [step["command"] for step in after_restore]
    assert [c["name"] for c in steps] == [step["name"] for step in after_restore]
    container = pod["spec"]["containers"][0]
    assert not {"livenessProbe", "readinessProbe", "startupProbe", "ports"} & set(container)
    app_container = app["deployment-web"]["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"] == app_container["envFrom"]
    selector = app["service"]["spec"]["selector"]
    labels = pod["metadata"]["labels"]
    assert any(labels.get(k) != v for k, v in selector.items()), "the app's Service selects it"
    assert pod["spec"]["restartPolicy"] == "Never"


# --- negative tests: every checker catches a broken manifest ------------------------------------


def test_checkers_catch_broken_manifests(rendered):
    objects = load(rendered["production"] / "backup")
    postgres = load(rendered["production"] / "postgres")
    pod = cronjob_pod(objects)

    unlabelled = copy.deepcopy(pod)
    del unlabelled["metadata"]["labels"]["onebox.io/postgres-client"]
    assert check_reaches_postgres("cronjob", unlabelled, postgres)

    wrong_host = copy.deepcopy(pod)
    wrong_host["spec"]["containers"][0]["env"][0]["value"] = "postgresql"
    assert check_reaches_postgres("cronjob", wrong_host, postgres)

    wrong_key = copy.deepcopy(pod)
    for item in wrong_key["spec"]["containers"][0]["env"]:
        if item["name"] == "PGPASSWORD":
            item["valueFrom"]["secretKeyRef"]["key"] = "password"
    assert check_reaches_postgres("cronjob", wrong_key, postgres)

    host_path = copy.deepcopy(pod)
    host_path["spec"]["volumes"][0] = {"name": "backups", "hostPath": {"path": "/var/backups"}}
    assert check_pod_security("cronjob", host_path)

    escalating = copy.deepcopy(pod)
    escalating["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    assert check_pod_security("cronjob", escalating)

    assert check_memory("cronjob", pod, "256Mi")
    uneven = copy.deepcopy(pod)
    uneven["spec"]["containers"][0]["resources"]["requests"]["memory"] = "64Mi"
    assert check_memory("cronjob", uneven, "128Mi")

    moved = copy.deepcopy(objects)
    moved["persistentvolume"]["spec"]["hostPath"]["path"] = "/srv/elsewhere"
    assert check_volume(moved, "/var/backups/onebox")
    provisioned = copy.deepcopy(objects)
    del provisioned["persistentvolumeclaim"]["spec"]["storageClassName"]
    assert check_volume(provisioned, "/var/backups/onebox")
