"""The workload manifests, as playbooks/render.yml writes them, for every inventory, both
ingress controllers (nginx for MicroK8s <= 1.34, Traefik for >= 1.35) and two apps: the reader
with its shipped profile (app/profile.yml) and the deliberately different example app
(examples/guestbook/profile.yml, passed with -e @file as a user would).

Each manifest is validated against the official schema of the pinned Kubernetes version
(kubernetes-validate, strict: unknown fields fail) or, for custom resources, against its CRD in
tests/crds with the same strictness (a missing CRD fails, never skips). Then checks that catch
real mistakes, each with a negative test that feeds it a deliberately broken manifest.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from conftest import REPO, filter_plugin, inventory_facts, run_playbook

ENVIRONMENTS = ("production", "staging", "sandbox")
# The controller MicroK8s runs for a channel, and the Kubernetes version to validate against.
CONTROLLERS = {"nginx": ("1.34/stable", "1.34"), "traefik": ("1.35/stable", "1.35")}
CRD_DIR = REPO / "tests" / "crds"
CRD_GROUPS = {"cert-manager.io", "traefik.io"}
APP_DIR = REPO / "app"
# The apps rendered: name -> its profile file (None: the inventory's default, the reader's).
APPS = {"reader": None, "guestbook": REPO / "examples/guestbook/profile.yml"}
# Vault values handed to every render: none of them may reach build/.
REAL_SECRETS = {
    "vault_postgres_password": "real-db-password-123",
    "vault_django_secret_key": "real-django-key-456",
    "vault_ingress_basic_auth_password": "real-basic-auth-789",
    "vault_redis_password": "real-redis-password-0ab",
}


controller_of = filter_plugin("microk8s_channel").microk8s_ingress_controller
app_profile_workloads = filter_plugin("app_profile").app_profile_workloads


def shared_facts(env: str, app: str = "reader") -> dict:
    """The variables a render of env sees at the top level, with the app's profile."""
    return inventory_facts(env, APPS[app])


def budget_lines(env: str, app: str) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(kind, name without revision, container) -> (memory limit, the variable that sets it)."""
    facts = shared_facts(env, app)
    profile, workloads = facts["onebox_app"], facts["onebox_memory"]["workloads"]
    name = profile["name"]
    lines = {
        ("StatefulSet", facts["onebox_database"]["service"], "postgres"): (
            workloads["postgres"],
            "onebox_memory.workloads.postgres",
        ),
    }
    if profile.get("redis"):
        redis = facts["onebox_redis"]
        kind = "StatefulSet" if redis["persistence"] else "Deployment"
        lines[(kind, redis["service"], "redis")] = (
            workloads["redis"],
            "onebox_memory.workloads.redis",
        )
    for process, settings in profile["processes"].items():
        lines[("Deployment", f"{name}-{process}", process)] = (
            settings["memory"],
            f"onebox_app.processes.{process}.memory",
        )
    for index, step in enumerate(profile.get("release", [])):
        own = "memory" in step
        lines[("Job", f"{name}-release", step["name"])] = (
            step["memory"] if own else profile.get("release_memory", "128Mi"),
            f"onebox_app.release[{index}].memory" if own else "onebox_app.release_memory",
        )
    # playbooks/run.yml's pod: the line the budget itself counts (none: the check fails).
    for row in app_profile_workloads(profile):
        if row["name"] == "app one-off pod":
            lines[("Pod", f"{name}-run", "run")] = (row["memory"], row["variable"])
    return lines


# --- rendering ----------------------------------------------------------------------------------


def render(env: str, controller: str, app: str, out: Path, **extra) -> None:
    channel, _ = CONTROLLERS[controller]
    extra_vars = {"microk8s_channel": channel, **REAL_SECRETS, **extra}
    profile = [] if APPS[app] is None else ["-e", f"@{APPS[app]}"]
    if (env, controller, app) == FRESH_CLONE:
        # Exactly as documented: `ansible-playbook playbooks/render.yml -i
        # inventories/production`, no vault, no -e (only the output directory is moved).
        extra_vars = {}
    result = run_playbook(
        REPO / "playbooks/render.yml",
        "-i",
        str(REPO / "inventories" / env),
        *profile,
        extra_vars={"onebox_render_dir": str(out), **extra_vars},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def production_channel() -> str:
    """The channel a plain production run uses: the inventory's, else the shared one."""
    return shared_facts("production")["microk8s_channel"]


# The one combination rendered with the plain documented command (the others add -e).
FRESH_CLONE = ("production", controller_of(production_channel()), "reader")


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Render every inventory for both controllers and both apps once (in parallel) per session."""
    root = tmp_path_factory.mktemp("manifests")
    jobs = {
        (env, ctl, app): root / f"{env}-{ctl}-{app}"
        for env in ENVIRONMENTS
        for ctl in CONTROLLERS
        for app in APPS
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(render, *key, out) for key, out in jobs.items()]
        for future in futures:
            future.result()
    return jobs


def load_dir(directory: Path) -> list[dict]:
    objects = []
    for path in sorted(directory.rglob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            if obj:
                obj["__file__"] = str(path.relative_to(directory))
                objects.append(obj)
    return objects


def clean(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k != "__file__"}


def cases():
    return [
        pytest.param(env, ctl, app, id=f"{env}-{ctl}-{app}")
        for env in ENVIRONMENTS
        for ctl in CONTROLLERS
        for app in APPS
    ]


# --- schemas ------------------------------------------------------------------------------------


def strict(schema):
    """A copy of a CRD schema in which objects with declared properties accept no others.

    Only where the CRD lists properties and does not ask to keep unknown fields
    (x-kubernetes-preserve-unknown-fields) or say what extra keys may hold (additionalProperties).
    """
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
        and "additionalProperties" not in schema
    ):
        out["additionalProperties"] = False
    return out


def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> strict JSON schema, from every CRD in tests/crds."""
    schemas = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = strict(version["schema"]["openAPIV3Schema"])
            # metadata is only {type: object} in a CRD: the API server checks it, and so do we
            # below with the ObjectMeta fields onebox uses.
            schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


OBJECT_META_KEYS = {"name", "namespace", "labels", "annotations"}


def crd_errors(obj: dict, schemas: dict) -> list[str]:
    key = (obj["apiVersion"], obj["kind"])
    if key not in schemas:
        return [f"{obj['kind']} {obj['apiVersion']}: no CRD for it in {CRD_DIR}"]
    validator = jsonschema.Draft7Validator(schemas[key])
    errors = [
        f"{obj['kind']}/{obj['metadata']['name']}: {'.'.join(map(str, e.path))}: {e.message}"
        for e in validator.iter_errors(clean(obj))
    ]
    unknown = set(obj["metadata"]) - OBJECT_META_KEYS
    if unknown:
        errors.append(f"{obj['kind']}: unexpected metadata fields {sorted(unknown)}")
    return errors


def schema_errors(obj: dict, version: str, schemas: dict | None) -> list[str]:
    group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
    if group in CRD_GROUPS:
        if schemas is None:
            return []
        return crd_errors(obj, schemas)
    try:
        kubernetes_validate.validate(clean(obj), version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(map(str, exc.path))
        return [f"{obj['kind']}/{obj['metadata']['name']}: {path}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [exc.message]
    return []


@pytest.fixture(scope="session")
def crds():
    # Fail, never skip: a clone without the CRDs would validate no custom resource at all.
    schemas = crd_schemas()
    assert schemas, f"no CRD in {CRD_DIR}: restore it from git (tests/crds/README.md)"
    return schemas


@pytest.mark.parametrize(("env", "controller", "app"), cases())
def test_builtin_kinds_validate_strictly_against_the_pinned_kubernetes(
    rendered, env, controller, app
):
    # The Kubernetes minor of the channel the render used.
    version = CONTROLLERS[controller][1]
    if (env, controller, app) == FRESH_CLONE:
        track = production_channel().split("/")[0]
        version = kubernetes_validate.latest_version() if track == "latest" else track
    objects = [o for o in load_dir(rendered[(env, controller, app)]) if "/" not in o["apiVersion"]
               or o["apiVersion"].split("/")[0] not in CRD_GROUPS]  # fmt: skip
    assert {o["kind"] for o in objects} >= {
        "Namespace", "Secret", "Service", "StatefulSet", "NetworkPolicy",
        "ConfigMap", "Deployment", "Job", "Pod",
    }  # fmt: skip
    errors = [e for obj in objects for e in schema_errors(obj, version, None)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(("env", "controller", "app"), cases())
def test_custom_resources_validate_strictly_against_their_crds(
    rendered, crds, env, controller, app
):
    objects = [o for o in load_dir(rendered[(env, controller, app)])
               if o["apiVersion"].split("/")[0] in CRD_GROUPS]  # fmt: skip
    kinds = {o["kind"] for o in objects}
    assert "ClusterIssuer" in kinds
    if controller == "traefik":
        assert {"Certificate", "Middleware", "IngressRoute", "ServersTransport"} <= kinds
    errors = [e for obj in objects for e in crd_errors(obj, crds)]
    assert not errors, "\n".join(errors)


def test_strict_validation_refuses_unknown_fields(rendered, crds):
    objects = load_dir(rendered[("production", "traefik", "reader")])
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["resourcez"] = {}
    assert schema_errors(broken, "1.35", None)
    broken = copy.deepcopy(deployment)
    broken["spec"]["strategy"]["type"] = 3
    assert schema_errors(broken, "1.35", None)
    middleware = next(o for o in objects if o["kind"] == "Middleware" and "buffering" in o["spec"])
    broken = copy.deepcopy(middleware)
    broken["spec"]["buffering"]["maxRequestBodySize"] = 1
    assert crd_errors(broken, crds)
    issuer = next(o for o in objects if o["kind"] == "ClusterIssuer")
    broken = copy.deepcopy(issuer)
    broken["spec"]["acme"]["emial"] = broken["spec"]["acme"].pop("email")
    assert crd_errors(broken, crds)
    broken = copy.deepcopy(issuer)
    broken["metadata"]["labelz"] = {}
    assert crd_errors(broken, crds)
    assert not crd_errors(issuer, crds)


def test_strictness_respects_preserve_unknown_fields():
    schema = strict(
        {
            "type": "object",
            "properties": {
                "a": {"type": "object", "properties": {"x": {"type": "string"}}},
                "b": {
                    "type": "object",
                    "properties": {"x": {"type": "string"}},
                    "x-kubernetes-preserve-unknown-fields": True,
                },
                "c": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    )
    validator = jsonschema.Draft7Validator(schema)
    assert not list(validator.iter_errors({"a": {"x": "1"}, "b": {"y": 1}, "c": {"k": "v"}}))
    assert list(validator.iter_errors({"a": {"y": "1"}}))
    assert list(validator.iter_errors({"d": 1}))


# --- checks that catch real mistakes ------------------------------------------------------------


def pod_specs(objects: list[dict]):
    """(kind, name, pod template) of every workload; a bare Pod (run.yml's) is its own template."""
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield obj["kind"], obj["metadata"]["name"], obj["spec"]["template"]
        elif obj["kind"] == "Pod":
            yield obj["kind"], obj["metadata"]["name"], obj


def containers(template: dict):
    spec = template["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def check_selectors(objects: list[dict]) -> list[str]:
    problems = []
    pods = list(pod_specs(objects))
    for kind, name, template in pods:
        if kind in ("Job", "Pod"):
            continue
        owner = next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
        selector = owner["spec"]["selector"]["matchLabels"]
        if not matches(selector, template["metadata"]["labels"]):
            problems.append(f"{kind}/{name}: selector {selector} does not match its pod labels")
    for obj in objects:
        if obj["kind"] == "Service":
            selector = obj["spec"]["selector"]
            if not any(matches(selector, t["metadata"]["labels"]) for _, _, t in pods):
                problems.append(f"Service/{obj['metadata']['name']}: selector matches no pod")
        if obj["kind"] == "NetworkPolicy":
            selector = obj["spec"]["podSelector"].get("matchLabels", {})
            # cert-manager starts the ACME solver pods itself, while a certificate is issued.
            solver = selector == {"acme.cert-manager.io/http01-solver": "true"}
            if not solver and not any(
                matches(selector, t["metadata"]["labels"]) for _, _, t in pods
            ):
                problems.append(f"NetworkPolicy/{obj['metadata']['name']}: protects no pod")
            for rule in obj["spec"].get("ingress", []):
                for source in rule.get("from", []):
                    if "podSelector" not in source:
                        continue  # another namespace's pods (the ingress controller's)
                    labels = source["podSelector"]["matchLabels"]
                    admitted = [n for k, n, t in pods if matches(labels, t["metadata"]["labels"])]
                    if not admitted:
                        problems.append(
                            f"NetworkPolicy/{obj['metadata']['name']}: admits no pod ({labels})"
                        )
    return problems


def check_ingress_policies(objects: list[dict], ingress_namespace: str = "ingress") -> list[str]:
    """Where a CNI enforces NetworkPolicy, the namespace denies by default and each pod that
    takes traffic is let in by a policy: the app's web pods and the ACME solver from the
    ingress controller's namespace, on their ports; PostgreSQL (and Redis) from their clients."""
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    problems = []
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")]
    if not deny:
        problems.append("no default-deny NetworkPolicy for the namespace")

    def admitted_from_ingress(labels: dict, port) -> bool:
        for policy in policies:
            selector = policy["spec"]["podSelector"].get("matchLabels", {})
            if not selector or not matches(selector, labels):
                continue
            for rule in policy["spec"].get("ingress", []):
                from_ingress = any(
                    s.get("namespaceSelector", {}).get("matchLabels")
                    == {"kubernetes.io/metadata.name": ingress_namespace}
                    for s in rule.get("from", [])
                )
                if from_ingress and any(p["port"] == port for p in rule.get("ports", [])):
                    return True
        return False

    for kind, name, template in pod_specs(objects):
        if kind != "Deployment" or not name.endswith("-web"):
            continue
        port = containers(template)[0]["ports"][0]["containerPort"]
        if not admitted_from_ingress(template["metadata"]["labels"], port):
            problems.append(
                f"{kind}/{name}: no policy lets the ingress controller reach port {port}"
            )
    if not admitted_from_ingress({"acme.cert-manager.io/http01-solver": "true"}, 8089):
        problems.append("no policy lets the ingress controller reach the ACME solver (8089)")
    return problems


def service_ports(objects: list[dict]) -> dict[str, list[dict]]:
    return {o["metadata"]["name"]: o["spec"]["ports"] for o in objects if o["kind"] == "Service"}


def check_ports(objects: list[dict]) -> list[str]:
    problems = []
    pods = list(pod_specs(objects))
    for obj in objects:
        if obj["kind"] != "Service":
            continue
        selector = obj["spec"]["selector"]
        backends = [t for _, _, t in pods if matches(selector, t["metadata"]["labels"])]
        exposed = [p for t in backends for c in t["spec"]["containers"] for p in c.get("ports", [])]
        for port in obj["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if not any(target in (p.get("name"), p["containerPort"]) for p in exposed):
                problems.append(
                    f"Service/{obj['metadata']['name']}: targetPort {target!r} is no container "
                    f"port of its pods ({[(p.get('name'), p['containerPort']) for p in exposed]})"
                )
    services = service_ports(objects)

    def backend_ok(name: str, port) -> bool:
        return any(port in (p["port"], p.get("name")) for p in services.get(name, []))

    for obj in objects:
        if obj["kind"] == "Ingress":
            for rule in obj["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    svc = path["backend"]["service"]
                    port = svc["port"].get("number", svc["port"].get("name"))
                    if not backend_ok(svc["name"], port):
                        problems.append(f"Ingress: backend {svc['name']}:{port} is no Service port")
        if obj["kind"] == "IngressRoute":
            for route in obj["spec"]["routes"]:
                for svc in route["services"]:
                    if not backend_ok(svc["name"], svc["port"]):
                        problems.append(
                            f"IngressRoute/{obj['metadata']['name']}: backend "
                            f"{svc['name']}:{svc['port']} is no Service port"
                        )
    return problems


def probe_paths(objects: list[dict]) -> set[str]:
    paths = set()
    for _, _, template in pod_specs(objects):
        for container in containers(template):
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if "httpGet" in container.get(probe, {}):
                    paths.add(container[probe]["httpGet"]["path"])
    return paths


_PROBE_SCRIPT = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
os.environ.update(DJANGO_SETTINGS_MODULE="onebox.settings", DJANGO_SECRET_KEY="probe-check",
                  DJANGO_ALLOWED_HOSTS="reader.example.org")
import django
django.setup()
from django.test import Client
from django.urls import Resolver404, resolve
client = Client()
answers = {}
for path in json.loads(sys.argv[2]):
    # As the kubelet asks: plain HTTP, the pod's IP as Host, no X-Forwarded-Proto.
    response = client.get(path, HTTP_HOST="10.1.0.7:8000")
    try:
        resolve(path)
        resolves = True
    except Resolver404:
        resolves = False
    body = response.content.decode(errors="replace")[:200]
    answers[path] = {"status": response.status_code, "resolves": resolves, "body": body}
print(json.dumps(answers))
"""


def app_answers(paths: set[str]) -> dict[str, dict]:
    """How the app answers GETs of these paths, asked as the kubelet asks, in a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE_SCRIPT, str(APP_DIR), json.dumps(sorted(paths))],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, (
        "Could not start the app's Django to check the probe paths (is app/requirements.txt "
        f"installed in this Python?):\n{result.stderr[-3000:]}"
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def check_probe_paths(objects: list[dict], answers: dict[str, dict]) -> list[str]:
    """A probe path must be answered by the app itself: the URL configuration resolves it, or the
    health middleware answers it (200, or 503 with its JSON while not ready). Anything else —
    a 404, or the HTTPS redirect (301) that the kubelet would count as success — is a mistake."""
    problems = []
    for path in sorted(probe_paths(objects)):
        answer = answers[path]
        served = answer["status"] == 200 or (
            answer["status"] == 503 and '"status": "unavailable"' in answer["body"]
        )
        if not (answer["resolves"] or served):
            problems.append(f"probe path {path} is not served by the app: {answer}")
    return problems


def check_memory(objects: list[dict]) -> list[str]:
    problems = []
    for kind, name, template in pod_specs(objects):
        for container in containers(template):
            resources = container.get("resources", {})
            request = resources.get("requests", {}).get("memory")
            limit = resources.get("limits", {}).get("memory")
            if request is None or limit is None or request != limit:
                problems.append(
                    f"{kind}/{name} container {container['name']}: memory request {request} "
                    f"!= limit {limit}"
                )
    return problems


def check_budget(objects: list[dict], budget: dict) -> list[str]:
    """Every container's limit is the one number the memory budget counts for it."""
    problems = []
    for kind, name, template in pod_specs(objects):
        base = re.sub(r"-[0-9a-f]{10}$", "", name)
        for container in containers(template):
            line = budget.get((kind, base, container["name"]))
            limit = container.get("resources", {}).get("limits", {}).get("memory")
            if line is None:
                problems.append(f"{kind}/{name} {container['name']}: no line in the memory budget")
            elif limit != line[0]:
                problems.append(
                    f"{kind}/{name} {container['name']}: memory limit {limit} is not "
                    f"{line[1]} = {line[0]}"
                )
    return problems


def image_problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.split("/")[-1]
    if ":" not in last:
        return f"{image}: no tag (means latest)"
    if last.split(":", 1)[1] == "latest":
        return f"{image}: tag latest"
    return None


def check_images(objects: list[dict]) -> list[str]:
    problems = []
    for kind, name, template in pod_specs(objects):
        for container in containers(template):
            problem = image_problem(container["image"])
            if problem:
                problems.append(f"{kind}/{name}: {problem}")
            if container.get("imagePullPolicy") != "IfNotPresent":
                problems.append(f"{kind}/{name}: imagePullPolicy is not IfNotPresent")
    return problems


SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|CREDENTIAL|API_?KEY", re.I)
URL_CREDENTIALS = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def check_configmaps(objects: list[dict]) -> list[str]:
    secret_values = {
        base64.b64decode(value).decode()
        for obj in objects
        if obj["kind"] == "Secret"
        for value in obj.get("data", {}).values()
    } | {
        value
        for obj in objects
        if obj["kind"] == "Secret"
        for value in obj.get("stringData", {}).values()
    }
    problems = []
    for obj in objects:
        if obj["kind"] != "ConfigMap":
            continue
        for key, value in obj.get("data", {}).items():
            if SECRET_NAME.search(key):
                problems.append(f"ConfigMap/{obj['metadata']['name']}: {key} looks like a secret")
            if URL_CREDENTIALS.search(value):
                problems.append(f"ConfigMap/{obj['metadata']['name']}: {key} holds credentials")
            if any(len(s) >= 6 and s in value for s in secret_values):
                problems.append(f"ConfigMap/{obj['metadata']['name']}: {key} holds a Secret value")
    return problems


def check_modes(directory: Path) -> list[str]:
    """Files holding a Secret must be owner-only; directories too (they list them)."""
    problems = []
    for path in [directory, *sorted(directory.rglob("*"))]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir() and mode & 0o077:
            problems.append(f"{path}: directory mode {mode:04o}, others may list it")
        if path.is_file() and "\nkind: Secret" in path.read_text() and mode & 0o077:
            problems.append(f"{path}: holds a Secret with mode {mode:04o}")
    return problems


@pytest.fixture(scope="session")
def answers(rendered):
    paths = set()
    for (_, _, app), out in rendered.items():
        if app == "reader":
            paths |= probe_paths(load_dir(out))
    # A mistyped path, to see that the check tells them apart in the same process.
    return app_answers(paths | {"/healthzz", "/readyz/"})


@pytest.mark.parametrize(("env", "controller", "app"), cases())
def test_the_manifests_hold_together(rendered, answers, env, controller, app):
    out = rendered[(env, controller, app)]
    objects = load_dir(out)
    problems = [
        *check_selectors(objects),
        *check_ingress_policies(objects),
        *check_ports(objects),
        # The reader's own paths are asked of the reader in-process; the example app's are
        # probed in its container test (tests/container).
        *(check_probe_paths(objects, answers) if app == "reader" else []),
        *check_memory(objects),
        *check_budget(objects, budget_lines(env, app)),
        *check_images(objects),
        *check_configmaps(objects),
        *check_modes(out),
    ]
    assert not problems, "\n".join(problems)
    health = shared_facts(env, app)["onebox_app"]["health"]
    assert probe_paths(objects) == {health["liveness"]["path"], health["readiness"]["path"]}


def good(rendered) -> list[dict]:
    return load_dir(rendered[("staging", "traefik", "reader")])


def find(objects, kind, name=None):
    return next(
        o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    )


def test_selector_check_catches_mismatches(rendered):
    objects = good(rendered)
    assert not check_selectors(objects)
    broken = copy.deepcopy(objects)
    find(broken, "Service", "reader")["spec"]["selector"]["app.kubernetes.io/name"] = "ap"
    assert any("Service/reader" in p for p in check_selectors(broken))
    broken = copy.deepcopy(objects)
    find(broken, "Deployment")["spec"]["selector"]["matchLabels"]["tier"] = "web"
    assert any("Deployment/reader-web" in p for p in check_selectors(broken))
    broken = copy.deepcopy(objects)
    labels = find(broken, "Deployment")["spec"]["template"]["metadata"]["labels"]
    for _, _, template in pod_specs(broken):
        template["metadata"]["labels"].pop("onebox.io/postgres-client", None)
    assert labels and any("admits no pod" in p for p in check_selectors(broken))


def test_policy_check_catches_a_web_pod_the_ingress_cannot_reach(rendered):
    objects = good(rendered)
    assert not check_ingress_policies(objects)
    broken = [
        o for o in copy.deepcopy(objects) if o["metadata"]["name"] != "reader-web-from-ingress"
    ]
    assert any("Deployment/reader-web" in p for p in check_ingress_policies(broken))
    broken = copy.deepcopy(objects)
    policy = find(broken, "NetworkPolicy", "reader-web-from-ingress")
    policy["spec"]["ingress"][0]["ports"][0]["port"] = 80
    assert any("port 8000" in p for p in check_ingress_policies(broken))
    broken = [o for o in copy.deepcopy(objects) if o["metadata"]["name"] != "default-deny-ingress"]
    assert any("default-deny" in p for p in check_ingress_policies(broken))
    broken = [o for o in copy.deepcopy(objects) if "acme-solver" not in o["metadata"]["name"]]
    assert any("ACME" in p for p in check_ingress_policies(broken))


def test_port_check_catches_mismatches(rendered):
    objects = good(rendered)
    assert not check_ports(objects)
    broken = copy.deepcopy(objects)
    find(broken, "Service", "postgres")["spec"]["ports"][0]["targetPort"] = "postgres"
    assert any("Service/postgres" in p for p in check_ports(broken))
    broken = copy.deepcopy(objects)
    find(broken, "IngressRoute", "onebox")["spec"]["routes"][0]["services"][0]["port"] = 8080
    assert any("IngressRoute/onebox" in p for p in check_ports(broken))
    nginx = load_dir(rendered[("staging", "nginx", "reader")])
    assert not check_ports(nginx)
    broken = copy.deepcopy(nginx)
    backend = find(broken, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    backend["service"]["port"]["number"] = 8000
    assert any("Ingress" in p for p in check_ports(broken))


def test_probe_path_check_catches_a_path_the_app_does_not_serve(rendered, answers):
    objects = good(rendered)
    assert not check_probe_paths(objects, answers)
    # The app answers its probes itself, not through the HTTPS redirect or a 404.
    assert answers["/healthz"]["status"] == 200
    assert answers["/readyz"]["status"] in (200, 503)
    for wrong in ("/healthzz", "/readyz/"):
        broken = copy.deepcopy(objects)
        container = find(broken, "Deployment")["spec"]["template"]["spec"]["containers"][0]
        container["livenessProbe"]["httpGet"]["path"] = wrong
        assert any(wrong in p for p in check_probe_paths(broken, answers)), answers[wrong]


def test_memory_check_catches_requests_below_limits(rendered):
    objects = good(rendered)
    assert not check_memory(objects)
    broken = copy.deepcopy(objects)
    container = find(broken, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["requests"]["memory"] = "256Mi"
    assert any("StatefulSet/postgres" in p for p in check_memory(broken))
    broken = copy.deepcopy(objects)
    job = find(broken, "Job")["spec"]["template"]["spec"]["initContainers"][0]
    del job["resources"]["requests"]["memory"]
    assert any("migrate" in p for p in check_memory(broken))


def test_budget_check_catches_a_second_copy_of_a_number(rendered):
    objects = good(rendered)
    budget = budget_lines("staging", "reader")
    assert not check_budget(objects, budget)
    broken = copy.deepcopy(objects)
    container = find(broken, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["limits"]["memory"] = "400Mi"
    assert any("onebox_app.processes.web.memory" in p for p in check_budget(broken, budget))
    broken = copy.deepcopy(objects)
    find(broken, "Job")["spec"]["template"]["spec"]["containers"][0]["name"] = "surprise"
    assert any("no line in the memory budget" in p for p in check_budget(broken, budget))


def test_image_check_catches_latest_and_missing_tags(rendered):
    objects = good(rendered)
    assert not check_images(objects)
    for image in ("onebox-app:latest", "onebox-app", "registry.local:5000/onebox-app"):
        broken = copy.deepcopy(objects)
        find(broken, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"] = image
        assert any(image in p for p in check_images(broken))
    assert image_problem("registry.local:5000/onebox-app:1.2") is None
    assert image_problem("onebox-app@sha256:" + "a" * 64) is None


def test_configmap_check_catches_secrets(rendered):
    objects = good(rendered)
    assert not check_configmaps(objects)
    password = base64.b64decode(find(objects, "Secret", "postgres")["data"]["POSTGRES_PASSWORD"])
    for key, value in (
        ("DJANGO_SECRET_KEY", "x"),
        ("DB", "postgres://onebox:hunter22@postgres/onebox"),
        ("NOTE", f"pw is {password.decode()}"),
    ):
        broken = copy.deepcopy(objects)
        find(broken, "ConfigMap")["data"][key] = value
        assert any(key in p for p in check_configmaps(broken)), key


def test_mode_check_catches_a_readable_secret_file(tmp_path):
    (tmp_path / "app").mkdir(mode=0o700)
    tmp_path.chmod(0o700)
    secret = tmp_path / "app/secret.yaml"
    secret.write_text("# x\napiVersion: v1\nkind: Secret\n")
    secret.chmod(0o600)
    plain = tmp_path / "app/service.yaml"
    plain.write_text("apiVersion: v1\nkind: Service\n")
    plain.chmod(0o644)
    assert not check_modes(tmp_path)
    secret.chmod(0o644)
    assert any("secret.yaml" in p for p in check_modes(tmp_path))
    secret.chmod(0o600)
    (tmp_path / "app").chmod(0o755)
    assert any("directory" in p for p in check_modes(tmp_path))


# --- what each inventory and controller must show -----------------------------------------------


@pytest.mark.parametrize(("env", "controller", "app"), cases())
def test_the_ingress_fits_the_controller(rendered, env, controller, app):
    objects = load_dir(rendered[(env, controller, app)])
    kinds = {o["kind"] for o in objects}
    fifty_mib = 50 * 1024 * 1024
    if controller == "nginx":
        ingress = find(objects, "Ingress")
        notes = ingress["metadata"]["annotations"]
        assert ingress["spec"]["ingressClassName"] == "public"
        assert notes["nginx.ingress.kubernetes.io/proxy-body-size"] == "50m"
        assert notes["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
        assert notes["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "300"
        assert notes["cert-manager.io/cluster-issuer"].startswith("onebox-")
        assert ("nginx.ingress.kubernetes.io/auth-secret" in notes) == (env != "production")
        assert not kinds & {"IngressRoute", "Middleware", "Certificate"}
    else:
        assert "Ingress" not in kinds
        body = next(o for o in objects if o["kind"] == "Middleware" and "buffering" in o["spec"])
        assert body["spec"]["buffering"]["maxRequestBodyBytes"] == fifty_mib
        route = find(objects, "IngressRoute", "onebox")
        assert route["spec"]["entryPoints"] == ["websecure"]
        used = {m["name"] for m in route["spec"]["routes"][0]["middlewares"]}
        defined = {o["metadata"]["name"] for o in objects if o["kind"] == "Middleware"}
        assert used <= defined
        assert ("onebox-basic-auth" in used) == (env != "production")
        http = find(objects, "IngressRoute", "onebox-http")
        assert http["spec"]["entryPoints"] == ["web"]
        redirect = find(objects, "Middleware", http["spec"]["routes"][0]["middlewares"][0]["name"])
        assert redirect["spec"]["redirectScheme"] == {"scheme": "https", "permanent": True}
        certificate = find(objects, "Certificate")
        assert certificate["spec"]["secretName"] == route["spec"]["tls"]["secretName"]
    # The reader's own limit answers first (a JSON 413), below the ingress's.
    if app == "reader":
        config = find(objects, "ConfigMap")["data"]
        assert 0 < int(config["ONEBOX_MAX_IMPORT_BYTES"]) < fifty_mib
    # The routes go to the app's Service on the port it serves.
    service = find(objects, "Service", shared_facts(env, app)["onebox_app"]["name"])
    assert service["spec"]["ports"][0]["port"] == 80
    issuer = find(objects, "ClusterIssuer")
    expected = {"production": "acme-v02", "staging": "acme-staging-v02", "sandbox": None}[env]
    if expected:
        assert expected in issuer["spec"]["acme"]["server"]
        solver = issuer["spec"]["acme"]["solvers"][0]["http01"]["ingress"]
        assert solver["ingressClassName"] == {"nginx": "public", "traefik": "traefik"}[controller]
    else:
        assert issuer["spec"] == {"selfSigned": {}}


@pytest.mark.parametrize("app", APPS)
def test_the_app_is_hardened_and_starts_slowly_enough(rendered, app):
    profile = shared_facts("production", app)["onebox_app"]
    objects = load_dir(rendered[("production", "nginx", app)])
    deployment = find(objects, "Deployment", f"{profile['name']}-web")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == profile["user"]["uid"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for _, _, template in pod_specs(objects):
        for container in containers(template):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True
            assert security["capabilities"] == {"drop": ["ALL"]}
    web = pod["containers"][0]
    assert web["ports"][0]["containerPort"] == profile["port"]
    startup = web["startupProbe"]
    budget = startup["periodSeconds"] * startup["failureThreshold"]
    cold = profile["health"]["cold_start_seconds"]
    assert budget >= max(120, 20 * cold), (budget, cold)
    assert budget >= profile["health"].get("startup_budget_seconds", 120)
    job = find(objects, "Job")
    revision = deployment["spec"]["template"]["metadata"]["annotations"]["onebox.io/revision"]
    assert job["metadata"]["name"] == f"{profile['name']}-release-{revision}"
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert job["spec"]["backoffLimit"] >= 1
    # The release commands, in the profile's order: init containers, then the Job's container.
    commands = [c["command"] for c in containers(job["spec"]["template"])]
    assert commands == [step["command"] for step in profile["release"]]


def test_the_reader_runs_as_its_dockerfile_says():
    profile = shared_facts("production")["onebox_app"]
    uid, gid = profile["user"]["uid"], profile["user"]["gid"]
    assert f"USER {uid}:{gid}" in (APP_DIR / "Dockerfile").read_text()
    assert f"EXPOSE {profile['port']}" in (APP_DIR / "Dockerfile").read_text()


def test_postgres_settings_follow_its_memory_limit(rendered):
    objects = load_dir(rendered[("production", "nginx", "reader")])
    statefulset = find(objects, "StatefulSet")
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    args = dict(a.split("=", 1) for a in container["args"] if a != "-c")
    limit_mib = int(shared_facts("production")["onebox_memory"]["workloads"]["postgres"][:-2])
    assert args["shared_buffers"] == f"{limit_mib // 4}MB"
    assert args["effective_cache_size"] == f"{limit_mib // 2}MB"
    assert int(args["max_connections"]) == min(max(limit_mib // 16, 20), 100)
    shm = next(v for v in statefulset["spec"]["template"]["spec"]["volumes"] if v["name"] == "shm")
    assert shm["emptyDir"] == {"medium": "Memory", "sizeLimit": f"{limit_mib // 8}Mi"}
    # All of it fits in the limit: shared_buffers + /dev/shm + work_mem for every connection.
    work_mem = int(args["work_mem"].removesuffix("MB"))
    assert limit_mib // 4 + limit_mib // 8 + work_mem * int(args["max_connections"]) < limit_mib
    assert re.fullmatch(r"postgres:16\.[0-9]+-bookworm", container["image"])
    claim = statefulset["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["storageClassName"] == "microk8s-hostpath"


@pytest.mark.parametrize(("env", "controller", "app"), cases())
def test_render_writes_no_real_secret_and_says_so(rendered, env, controller, app):
    """Every render is handed the vault's values; build/ still holds only placeholders."""
    out = rendered[(env, controller, app)]
    secrets = 0
    for path in out.rglob("*.yaml"):
        text = path.read_text()
        decoded = " ".join(
            base64.b64decode(v).decode()
            for obj in yaml.safe_load_all(text)
            if obj and obj["kind"] == "Secret"
            for v in obj["data"].values()
        )
        for real in REAL_SECRETS.values():
            assert real not in text and real not in decoded, path
        if "\nkind: Secret" in text:
            secrets += 1
            assert "PLACEHOLDER VALUES" in text, path
            assert "placeholder-for-" in decoded, path
    # PostgreSQL's and the app's, basic auth's where it is on, Redis' for an app that uses it.
    redis = 1 if shared_facts(env, app)["onebox_app"].get("redis") else 0
    assert secrets == (2 if env == "production" else 3) + redis


def test_render_runs_as_documented_on_a_fresh_clone(rendered):
    """`ansible-playbook playbooks/render.yml -i inventories/production` (the FRESH_CLONE render:
    no vault, no -e) writes every role's manifests, for the controller of the pinned channel."""
    out = rendered[FRESH_CLONE]
    assert {p.parent.name for p in out.rglob("*.yaml")} == {
        "kube_client",
        "postgres",
        "app",
        "ingress",
        "backup",
    }
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    kinds = {o["kind"] for o in load_dir(out)}
    assert ("IngressRoute" in kinds) == (FRESH_CLONE[1] == "traefik")


# --- Redis: only for an app whose profile uses it ----------------------------------------------


def redis_maxmemory_mib(limit: str, persistence: bool) -> int:
    """roles/redis/vars/main.yml: 16 MiB for the server, 1.5x the data for fragmentation, and
    with persistence once more the data for the copy-on-write of a rewrite's fork."""
    mib = int(limit.removesuffix("Mi"))
    return (mib - 16) * 2 // (5 if persistence else 3)


@pytest.mark.parametrize(("env", "controller", "app"), cases())
def test_redis_runs_only_for_an_app_that_uses_it(rendered, env, controller, app):
    out = rendered[(env, controller, app)]
    objects = load_dir(out)
    facts = shared_facts(env, app)
    profile, redis = facts["onebox_app"], facts["onebox_redis"]
    label = redis["client_label"]
    pods = list(pod_specs(objects))
    app_secret = find(objects, "Secret", profile["name"])
    if not profile.get("redis"):
        assert not (out / "redis").exists()
        assert not [o for o in objects if o["metadata"]["name"] == redis["service"]]
        assert not [n for _, n, t in pods if label in t["metadata"]["labels"]]
        assert "REDIS_URL" not in app_secret["data"]
        return
    mine = [o for o in objects if o["__file__"].startswith("redis/")]
    found = {(o["kind"], o["metadata"]["name"]) for o in mine}
    kind = "StatefulSet" if redis["persistence"] else "Deployment"
    assert found == {
        (kind, redis["service"]),
        ("Service", redis["service"]),
        ("Secret", redis["service"]),
        ("NetworkPolicy", f"{redis['service']}-clients-only"),
    }
    # The NetworkPolicy admits the app's pods (every process and the release Job), and no other:
    # not PostgreSQL, not the backup Jobs.
    policy = find(objects, "NetworkPolicy", f"{redis['service']}-clients-only")
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": redis["port"]}]
    sources = policy["spec"]["ingress"][0]["from"]
    assert sources == [{"podSelector": {"matchLabels": {label: "true"}}}]
    admitted = {
        re.sub(r"-[0-9a-f]{10}$", "", n)
        for _, n, t in pods
        if t["metadata"]["labels"].get(label) == "true"
    }
    name = profile["name"]
    # ... and playbooks/run.yml's one-off pod, a process like the others.
    expected = {f"{name}-{p}" for p in profile["processes"]} | {f"{name}-release", f"{name}-run"}
    assert admitted == expected
    backup = find(objects, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]
    assert label not in backup["metadata"]["labels"]
    # The server: its memory limit is the budget's (check_budget), maxmemory derived from it.
    workload = find(objects, kind, redis["service"])
    pod = workload["spec"]["template"]["spec"]
    container = pod["containers"][0]
    _, *args = container["args"]
    settings = {args[i].removeprefix("--"): args[i + 1] for i in range(0, len(args), 2)}
    limit = facts["onebox_memory"]["workloads"]["redis"]
    assert container["resources"]["limits"]["memory"] == limit
    maxmemory = redis_maxmemory_mib(limit, redis["persistence"])
    assert settings["maxmemory"] == f"{maxmemory}mb"
    assert settings["maxmemory-policy"] == redis["maxmemory_policy"]
    assert settings["appendonly"] == ("yes" if redis["persistence"] else "no")
    assert container["image"] == redis["image"]
    assert re.fullmatch(r"redis:7\.[0-9]+\.[0-9]+-bookworm", container["image"])
    # Hardened like every pod here; the password is in no argument, probe or env value.
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert all("value" not in e for e in container["env"])
    assert not [a for a in args if "requirepass" in a or "placeholder" in a]
    # The app's REDIS_URL points at the Service and its port.
    url = base64.b64decode(app_secret["data"]["REDIS_URL"]).decode()
    assert re.fullmatch(rf"redis://:[^@]+@{redis['service']}:{redis['port']}/0", url), url


def test_the_selector_check_sees_app_pods_without_the_redis_label(rendered):
    objects = load_dir(rendered[("staging", "traefik", "guestbook")])
    assert not check_selectors(objects)
    label = shared_facts("staging", "guestbook")["onebox_redis"]["client_label"]
    broken = copy.deepcopy(objects)
    for _, _, template in pod_specs(broken):
        template["metadata"]["labels"].pop(label, None)
    problems = check_selectors(broken)
    assert any("NetworkPolicy/redis-clients-only: admits no pod" in p for p in problems)


# --- playbooks/run.yml's one-off pod and playbooks/logs.yml's selectors (issue 16) --------------

# The example command playbooks/render.yml renders the one-off pod with.
RUN_EXAMPLE = ["/bin/sh", "-c", "python manage.py showmigrations"]


def run_pod_problems(objects: list[dict], profile: dict, facts: dict) -> list[str]:
    """The one-off pod is the web pod with another command: the same image, env, secrets,
    hardening and writable paths, the database's client label, never restarted, bounded."""
    name = profile["name"]
    pod = find(objects, "Pod", f"{name}-run")
    web = find(objects, "Deployment", f"{name}-web")["spec"]["template"]["spec"]
    problems = []
    for key in ("securityContext", "automountServiceAccountToken", "enableServiceLinks", "volumes"):
        if pod["spec"].get(key) != web.get(key):
            problems.append(f"spec.{key}: {pod['spec'].get(key)!r} != web's {web.get(key)!r}")
    run, web_container = pod["spec"]["containers"][0], web["containers"][0]
    for key in ("image", "imagePullPolicy", "envFrom", "securityContext", "volumeMounts"):
        if run.get(key) != web_container.get(key):
            problems.append(
                f"container {key}: {run.get(key)!r} != web's {web_container.get(key)!r}"
            )
    if pod["spec"].get("restartPolicy") != "Never":
        problems.append(f"restartPolicy {pod['spec'].get('restartPolicy')!r}, not Never")
    if not pod["spec"].get("activeDeadlineSeconds", 0) > 0:
        problems.append("no activeDeadlineSeconds: a hung command would hold its memory for ever")
    labels = pod["metadata"]["labels"]
    client = facts["onebox_database"]["client_label"]
    if labels.get(client) != "true":
        problems.append(f"no {client} label: PostgreSQL's NetworkPolicy would not admit it")
    redis_client = facts["onebox_redis"]["client_label"]
    if profile.get("redis") and labels.get(redis_client) != "true":
        problems.append(f"no {redis_client} label: Redis' NetworkPolicy would not admit it")
    # A Deployment's ReplicaSet would adopt a pod its selector matches; a Service would send
    # requests to it.
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet"):
            selector = obj["spec"]["selector"]["matchLabels"]
        elif obj["kind"] == "Service":
            selector = obj["spec"]["selector"]
        else:
            continue
        if matches(selector, labels):
            problems.append(f"{obj['kind']}/{obj['metadata']['name']} selects the one-off pod")
    return problems


@pytest.mark.parametrize(("env", "controller", "app"), cases())
def test_the_run_pod_is_the_web_pod_with_another_command(rendered, env, controller, app):
    facts = shared_facts(env, app)
    profile = facts["onebox_app"]
    objects = load_dir(rendered[(env, controller, app)])
    assert not run_pod_problems(objects, profile, facts)
    pod = find(objects, "Pod", f"{profile['name']}-run")
    assert pod["spec"]["containers"][0]["command"] == RUN_EXAMPLE
    # Rendered owner-only: the command may hold anything.
    path = rendered[(env, controller, app)] / "app/run-pod.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Its memory is a line of the memory budget: the budget check above covers it (Pod/<name>-run).
    assert ("Pod", f"{profile['name']}-run", "run") in budget_lines(env, app)


def test_the_run_pod_check_catches_a_pod_unlike_the_web_one(rendered):
    facts = shared_facts("staging", "guestbook")
    objects = load_dir(rendered[("staging", "traefik", "guestbook")])
    profile = facts["onebox_app"]
    assert not run_pod_problems(objects, profile, facts)
    for change, says in [
        (lambda pod: pod["spec"]["containers"][0].pop("envFrom"), "container envFrom"),
        (lambda pod: pod["spec"].pop("volumes"), "spec.volumes"),
        (lambda pod: pod["spec"].update(restartPolicy="OnFailure"), "restartPolicy"),
        (lambda pod: pod["spec"].pop("activeDeadlineSeconds"), "activeDeadlineSeconds"),
        (lambda pod: pod["metadata"]["labels"].pop("onebox.io/redis-client"), "Redis"),
        (
            lambda pod: pod["metadata"]["labels"].update({"app.kubernetes.io/component": "web"}),
            "Service/guestbook selects the one-off pod",
        ),
    ]:
        broken = copy.deepcopy(objects)
        change(find(broken, "Pod"))
        assert any(says in p for p in run_pod_problems(broken, profile, facts)), says


def test_the_budget_check_catches_a_run_pod_the_budget_does_not_count(rendered, monkeypatch):
    objects = good(rendered)
    assert not check_budget(objects, budget_lines("staging", "reader"))
    # The budget's filter without the one-off pod's row, as before issue 16.
    counted = app_profile_workloads
    monkeypatch.setattr(
        sys.modules[__name__],
        "app_profile_workloads",
        lambda profile: [r for r in counted(profile) if r["name"] != "app one-off pod"],
    )
    problems = check_budget(objects, budget_lines("staging", "reader"))
    assert problems == ["Pod/reader-run run: no line in the memory budget"]


def logs_template(profile: dict, expression: str, **variables):
    """An expression of playbooks/logs.yml's play vars, templated by Ansible itself."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    play = yaml.safe_load((REPO / "playbooks/logs.yml").read_text())[0]
    known = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in play["vars"].items()}
    templar = Templar(loader=DataLoader(), variables={**known, "onebox_app": profile, **variables})
    return templar.template(trust_as_template(expression))


@pytest.mark.parametrize("app", APPS)
def test_logs_finds_one_workload_and_its_container_for_each_name(rendered, app):
    """Each name logs.yml accepts selects the pods of exactly one workload, which has a
    container of that name (the one k8s_log reads), from the labels the roles render."""
    profile = shared_facts("staging", app)["onebox_app"]
    objects = load_dir(rendered[("staging", "traefik", app)])
    known = logs_template(profile, "{{ __logs_known }}")
    expected = ["web", *sorted(p for p in profile["processes"] if p != "web"), "postgres"]
    assert known == expected + (["redis"] if profile.get("redis") else [])
    for name in known:
        selector = logs_template(profile, "{{ __logs_selector }}", logs_of=name)
        labels = dict(item.split("=", 1) for item in selector)
        found = [
            (kind, workload, [c["name"] for c in containers(template)])
            for kind, workload, template in pod_specs(objects)
            if matches(labels, template["metadata"]["labels"])
        ]
        assert len(found) == 1, (name, selector, found)
        assert name in found[0][2], (name, found)
