"""Run an app profile (onebox_app, /work/notes/profile-format.md) with Docker the way the
cluster would run it, so that a profile is proven against its own image before a deploy.

What Kubernetes would do, and what is done here instead:
- the image is built from the Dockerfile beside the profile, FROM the harness's Debian base
  (`harness.py image python`, passed as --build-arg BASE_IMAGE);
- PostgreSQL (tests/container/../../app/tests/container/Dockerfile.postgres) and, when
  `redis: true`, Redis (Dockerfile.redis here) run on a private network;
- every container gets the profile's numeric user, its read-only root filesystem, a tmpfs for
  each writable path (an emptyDir), the memory limit of its process, the injected env
  (DATABASE_URL, DJANGO_ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, PORT, REDIS_URL), the profile's
  env and its secret_env filled with test values;
- the release commands run in order, each to completion, like the release Job;
- then the web process (the profile's command, else the image's CMD) and every other process;
- readiness is waited for within the startup budget and probed like the kubelet does (plain
  HTTP, the pod IP as Host), liveness too.

Usage as a script (prints the cold start and memory figures); the image is built from the
profile's directory unless a build directory is given:
    .venv/bin/python tests/container/profile_stack.py examples/guestbook/profile.yml [DIR]
"""

from __future__ import annotations

import importlib.util
import json
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HARNESS = REPO / "molecule" / "harness" / "harness.py"
POSTGRES_DOCKERFILE = REPO / "app" / "tests" / "container" / "Dockerfile.postgres"
REDIS_DOCKERFILE = HERE / "Dockerfile.redis"
READER = REPO / "app" / "profile.yml"
GUESTBOOK = REPO / "examples" / "guestbook" / "profile.yml"
DB_PASSWORD = "onebox-test-password"  # baked into Dockerfile.postgres; test only
REDIS_PASSWORD = "onebox-test-redis-password"  # baked into Dockerfile.redis; test only
# What the ingress host would be: the app gets it in DJANGO_ALLOWED_HOSTS and CSRF origins.
HOST = "onebox.test"
# The kubelet probes with the pod IP as Host header.
PROBE_HOST = "10.1.2.3"


def _quantity_parser():
    """The one Kubernetes quantity parser (plugins/filter/memory_budget.py), as the roles use."""
    spec = importlib.util.spec_from_file_location(
        "onebox_memory_budget", REPO / "plugins" / "filter" / "memory_budget.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.k8s_quantity_bytes


quantity_bytes = _quantity_parser()


def sh(*args: str, timeout: float = 900, check: bool = True) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) without following redirects; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def wait_for(predicate, what: str, seconds: float) -> float:
    """Seconds until predicate() was true; AssertionError after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if predicate():
                return time.monotonic() - started
        except OSError:
            pass  # not listening yet, connection reset while starting
        time.sleep(0.25)
    raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")


def load_profile(path: Path) -> dict:
    data = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict) or "onebox_app" not in data:
        raise ValueError(f"{path}: a profile has one top-level key, onebox_app")
    return data["onebox_app"]


def harness_base_image() -> str:
    if not HARNESS.exists():
        raise AssertionError(f"{HARNESS} is missing: the container test needs the harness")
    return sh("python3", str(HARNESS), "image", "python").splitlines()[-1]


@dataclass
class Images:
    """The images a profile needs, built once (a test session builds each profile once)."""

    profile_path: Path
    # The Dockerfile's directory: the profile's own unless said otherwise.
    context: Path | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    app: str = ""
    db: str = ""
    redis: str = ""
    built: list[str] = field(default_factory=list)

    def build(self) -> Images:
        profile = load_profile(self.profile_path)
        base = harness_base_image()
        context = self.context or self.profile_path.parent
        self.app = f"onebox-profile-{profile['name']}:test-{self.run_id}"
        self._build(self.app, context, context / "Dockerfile", base)
        self.db = f"onebox-profile-db:test-{self.run_id}"
        self._build(self.db, POSTGRES_DOCKERFILE.parent, POSTGRES_DOCKERFILE, base)
        if profile.get("redis"):
            self.redis = f"onebox-profile-redis:test-{self.run_id}"
            self._build(self.redis, REDIS_DOCKERFILE.parent, REDIS_DOCKERFILE, base)
        return self

    def _build(self, tag: str, context: Path, dockerfile: Path, base: str) -> None:
        sh("docker", "build", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", tag,
           "-f", str(dockerfile), str(context))  # fmt: skip
        self.built.append(tag)

    def remove(self) -> None:
        for tag in self.built:
            sh("docker", "rmi", "-f", tag, check=False)
        self.built.clear()


class Stack:
    """Network, PostgreSQL, Redis, release, web and other processes of one profile."""

    def __init__(self, profile_path: Path, images: Images) -> None:
        self.profile = load_profile(profile_path)
        self.images = images
        run_id = uuid.uuid4().hex[:10]
        self.prefix = f"onebox-{self.profile['name']}-{run_id}"
        self.network = self.prefix
        self.containers: list[str] = []
        self.release_log: list[tuple[str, float]] = []
        self.cold_start_seconds = 0.0
        self.web = f"{self.prefix}-web"
        self.url = ""
        self.env = self._env()

    # --- how the cluster would run a container of this app -----------------------------------
    def _env(self) -> dict[str, str]:
        port = str(self.profile["port"])
        db = f"{self.prefix}-db"
        env = {
            "DATABASE_URL": f"postgres://postgres:{DB_PASSWORD}@{db}:5432/postgres",
            "DJANGO_ALLOWED_HOSTS": HOST,
            "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
            "PORT": port,
        }
        if self.profile.get("redis"):
            env["REDIS_URL"] = f"redis://:{REDIS_PASSWORD}@{self.prefix}-redis:6379/0"
        env.update({k: str(v) for k, v in (self.profile.get("env") or {}).items()})
        # Values a vault would hold: random, so nothing can depend on a known one.
        env.update({k: secrets.token_urlsafe(50) for k in self.profile.get("secret_env") or {}})
        return env

    def pod_args(self, memory: str, extra_env: dict | None = None) -> list[str]:
        """docker run arguments for one container of the app (a pod's securityContext,
        volumes, limits and env)."""
        profile = self.profile
        user = profile["user"]
        args = ["--network", self.network, "--user", f"{user['uid']}:{user['gid']}"]
        limit = str(quantity_bytes(memory))
        args += ["--memory", limit, "--memory-swap", limit]  # no swap, as on the node
        if profile.get("read_only_root_filesystem"):
            args.append("--read-only")
        for volume in profile.get("writable_paths") or []:
            size = quantity_bytes(volume["size"])
            args += ["--tmpfs", f"{volume['path']}:rw,nosuid,nodev,size={size},mode=1777"]
        for key, value in {**self.env, **(extra_env or {})}.items():
            args += ["-e", f"{key}={value}"]
        return args

    def command_args(self, command: list[str] | None) -> list[str]:
        """A pod's `command:` replaces the image's ENTRYPOINT and CMD; empty keeps them."""
        if not command:
            return [self.images.app]
        return ["--entrypoint", str(command[0]), self.images.app, *map(str, command[1:])]

    def run_process(self, name: str, extra_env: dict | None = None) -> str:
        """Start the profile's process `name` (web, worker, ...) detached; its container."""
        process = self.profile["processes"][name]
        container = f"{self.prefix}-{name}"
        publish = ["-p", f"127.0.0.1::{self.profile['port']}"] if name == "web" else []
        self.containers.append(container)
        sh("docker", "run", "-d", "--name", container, *publish,
           *self.pod_args(process["memory"], extra_env),
           *self.command_args(process.get("command")))  # fmt: skip
        return container

    def stop_process(self, name: str) -> float:
        """`docker stop` with the profile's grace period (SIGTERM, then SIGKILL); seconds."""
        grace = self.profile["processes"][name].get("termination_grace_seconds", 30)
        started = time.monotonic()
        sh("docker", "stop", "-t", str(grace), f"{self.prefix}-{name}", timeout=grace + 60)
        return time.monotonic() - started

    def remove_process(self, name: str) -> None:
        container = f"{self.prefix}-{name}"
        sh("docker", "rm", "-f", "-v", container, check=False)
        if container in self.containers:
            self.containers.remove(container)

    # --- probes --------------------------------------------------------------------------
    def probe(self, probe: dict, container: str | None = None) -> bool:
        """One kubelet probe: HTTP GET on the port (plain HTTP, pod IP as Host) or exec."""
        if "exec" in probe:
            result = subprocess.run(
                ["docker", "exec", container or self.web, *map(str, probe["exec"])],
                capture_output=True,
                timeout=30,
            )
            return result.returncode == 0
        host = f"{PROBE_HOST}:{self.profile['port']}"
        try:
            status, _, _ = http("GET", self.url + probe["path"], headers={"Host": host})
        except OSError:
            return False  # refused, reset or timed out: a failed probe, as for the kubelet
        return 200 <= status < 400

    def wait_ready(self, seconds: float | None = None) -> float:
        """Seconds until the readiness probe passes (at most the startup budget)."""
        health = self.profile["health"]
        budget = float(seconds or health.get("startup_budget_seconds", 120))
        try:
            return wait_for(
                lambda: self.probe(health["readiness"]), f"readiness {health['readiness']}", budget
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs(self.web)}") from None

    def get(self, path: str, headers: dict | None = None):
        """A request as it comes through the ingress: the app's host name, HTTPS said."""
        return http("GET", self.url + path, headers={**self.ingress_headers(), **(headers or {})})

    @staticmethod
    def ingress_headers() -> dict:
        return {"Host": HOST, "X-Forwarded-Proto": "https"}

    # --- memory --------------------------------------------------------------------------
    def pss_bytes(self, container: str) -> int:
        """Proportional set size of every process of a container (read on the host)."""
        pids = sh("docker", "top", container, "-eo", "pid").splitlines()[1:]
        total = 0
        for pid in pids:
            rollup = Path(f"/proc/{pid.strip()}/smaps_rollup")
            try:
                text = rollup.read_text()
            except FileNotFoundError:
                continue  # exited between the listing and the read
            total += sum(int(m) for m in re.findall(r"^Pss:\s+(\d+) kB", text, re.M)) * 1024
        return total

    # --- the whole stack -----------------------------------------------------------------
    def wait_db(self) -> None:
        db = f"{self.prefix}-db"
        wait_for(
            lambda: subprocess.run(["docker", "exec", db, "/usr/local/pgbin/pg_isready", "-q"],
                                   capture_output=True).returncode == 0,
            "PostgreSQL", 90,
        )  # fmt: skip

    def start(self) -> Stack:
        sh("docker", "network", "create", self.network)
        db = f"{self.prefix}-db"
        self.containers.append(db)
        sh("docker", "run", "-d", "--name", db, "--network", self.network, self.images.db)
        self.wait_db()
        if self.profile.get("redis"):
            redis = f"{self.prefix}-redis"
            self.containers.append(redis)
            sh("docker", "run", "-d", "--name", redis, "--network", self.network,
               self.images.redis)  # fmt: skip
            wait_for(
                lambda: sh("docker", "exec", redis, "redis-cli", "--no-auth-warning", "-a",
                           REDIS_PASSWORD, "ping", check=False) == "PONG",
                "Redis", 60,
            )  # fmt: skip
        self.release()
        self.start_web()
        for name in self.profile["processes"]:
            if name != "web":
                self.run_process(name)
        return self

    def release(self) -> None:
        """The release Job: each command in order, each must succeed."""
        default_memory = self.profile.get("release_memory", "128Mi")
        for step in self.profile.get("release") or []:
            started = time.monotonic()
            name = f"{self.prefix}-release-{step['name']}"
            self.containers.append(name)
            result = subprocess.run(
                ["docker", "run", "--name", name,
                 *self.pod_args(step.get("memory", default_memory)),
                 *self.command_args(step["command"])],
                capture_output=True, text=True, timeout=900,
            )  # fmt: skip
            sh("docker", "rm", "-f", name, check=False)
            self.containers.remove(name)
            if result.returncode != 0:
                raise AssertionError(
                    f"release command {step['name']} {step['command']} exited "
                    f"{result.returncode}:\n{result.stdout}\n{result.stderr}"
                )
            self.release_log.append((step["name"], time.monotonic() - started))

    def start_web(self) -> None:
        started = time.monotonic()
        self.run_process("web")
        published = sh("docker", "port", self.web, f"{self.profile['port']}/tcp")
        self.url = f"http://127.0.0.1:{published.splitlines()[0].rsplit(':', 1)[1]}"
        self.wait_ready()
        self.cold_start_seconds = time.monotonic() - started

    def logs(self, container: str) -> str:
        result = subprocess.run(["docker", "logs", "--tail", "60", container],
                                capture_output=True, text=True)  # fmt: skip
        return f"--- logs of {container}:\n{result.stdout}{result.stderr}"

    def remove(self) -> None:
        for container in reversed(self.containers):
            sh("docker", "rm", "-f", "-v", container, check=False)
        self.containers.clear()
        sh("docker", "network", "rm", self.network, check=False)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    path = Path(argv[0]).resolve()
    images = Images(path, Path(argv[1]).resolve() if len(argv) == 2 else None)
    try:
        images.build()
        stack = Stack(path, images)
        try:
            stack.start()
            for name, seconds in stack.release_log:
                print(f"release {name}: {seconds:.1f} s")
            print(f"cold start to ready: {stack.cold_start_seconds:.2f} s")
            for container in stack.containers:
                print(f"PSS {container}: {stack.pss_bytes(container) / 2**20:.1f} MiB")
            print(json.dumps({"GET /": stack.get("/")[0]}))
        finally:
            stack.remove()
    finally:
        images.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
