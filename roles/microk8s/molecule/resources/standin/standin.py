#!/usr/bin/python3
"""Stand-in for `snap` and `microk8s` in the molecule containers (the snap store is out of reach).

Installed by molecule/resources/install_standin.yml at the paths of the real commands:
/usr/bin/snap (the Debian binary is diverted to /usr/bin/snap.debian before snapd is installed),
and, once `snap install microk8s` ran, /snap/bin/microk8s (and /snap/bin/kubectl after
`snap alias microk8s.kubectl kubectl`), all symlinks to this file, which dispatches on argv[0].

It keeps its state in one JSON file and appends every call to a log, one JSON array (argv) per
line, so the tests can check the commands the role ran. Only the behaviour the role depends on
is modelled; roles/microk8s/molecule/default/README.md says what is real and what is not.

A node's "cluster agent" (the real one listens on 25000) is a small HTTP server started by
`snap install microk8s` as a systemd unit: `microk8s join` on another container posts its token
there, so joining crosses the real network and the real firewall of the primary.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

STATE = Path("/var/lib/onebox-standin/state.json")
LOCK = Path("/var/lib/onebox-standin/state.lock")
LOG = Path("/var/log/onebox-standin/calls.log")
SNAPD_VERSION_FILE = Path("/etc/onebox-standin/snapd-version")
SELF = Path("/usr/local/lib/onebox-standin/standin.py")
SNAP_DATA_ROOT = Path("/var/snap/microk8s")
SNAP_BIN = Path("/snap/bin")
AGENT_UNIT = Path("/etc/systemd/system/snap.microk8s.daemon-cluster-agent.service")
AGENT_PORT = 25000

# Channels the "store" publishes: version and revision per track.
TRACKS = {
    "1.32": ("v1.32.11", 8021),
    "1.33": ("v1.33.9", 8143),
    "1.34": ("v1.34.6", 8287),
    "1.35": ("v1.35.4", 8412),
    "1.36": ("v1.36.4", 8556),
    "1.37": ("v1.37.1", 8690),
}
RISKS = ("stable", "candidate", "beta", "edge")

# The kubelet arguments file a MicroK8s 1.3x install ships (snap/microk8s-resources/
# default-args/kubelet, as found on installed hosts).
STOCK_KUBELET_ARGS = """\
--kubeconfig=${SNAP_DATA}/credentials/kubelet.config
--cert-dir=${SNAP_DATA}/certs
--client-ca-file=${SNAP_DATA}/certs/ca.crt
--anonymous-auth=false
--root-dir=${SNAP_COMMON}/var/lib/kubelet
--fail-swap-on=false
--eviction-hard="memory.available<100Mi,nodefs.available<1Gi,imagefs.available<1Gi"
--container-runtime-endpoint=${SNAP_COMMON}/run/containerd.sock
--containerd=${SNAP_COMMON}/run/containerd.sock
--node-labels="microk8s.io/cluster=true,node.kubernetes.io/microk8s-controlplane=microk8s-controlplane"
--authentication-token-webhook=true
--read-only-port=0
--serialize-image-pulls=false
"""

ADDONS = {
    "cert-manager": "Cloud native certificate management",
    "dashboard": "The Kubernetes dashboard",
    "dns": "CoreDNS",
    "ha-cluster": "Configure high availability on the current node",
    "helm": "Helm - the package manager for Kubernetes",
    "helm3": "Helm 3 - the package manager for Kubernetes",
    "hostpath-storage": "Storage class; allocates storage from host directory",
    "ingress": "Ingress controller for external access",
    "metrics-server": "K8s Metrics Server for API access to service metrics",
    "rbac": "Role-Based Access Control for authorisation",
    "registry": "Private image registry exposed on localhost:32000",
}


# --- state and log -------------------------------------------------------------------------


def fresh_state() -> dict:
    return {
        "installed": False,
        "channel": None,
        "revision": None,
        "version": None,
        "held": False,
        "system": {},
        "acked": [],
        "aliases": [],
        "ha": True,
        "addons": {},
        "tokens": {},
        "nodes": {},
        "joined": None,
        "restarts": 0,
        "kubeconfig_secret": None,
    }


class State:
    """The state file, locked for the whole command (the agent writes it too)."""

    def __enter__(self) -> dict:
        LOCK.parent.mkdir(parents=True, exist_ok=True)
        self._lock = LOCK.open("w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.data = json.loads(STATE.read_text()) if STATE.exists() else fresh_state()
        return self.data

    def __exit__(self, *exc) -> None:
        tmp = STATE.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        tmp.replace(STATE)
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()


def log_call(prog: str, argv: list[str]) -> None:
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("a") as handle:
        handle.write(json.dumps([prog, *argv]) + "\n")


def fail(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code


def snapd_version() -> str:
    if SNAPD_VERSION_FILE.exists():
        return SNAPD_VERSION_FILE.read_text().strip()
    return "2.66.1"


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"[0-9]+", text)[:3])


def own_ip() -> str:
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return out[0] if out else "127.0.0.1"


def node_name() -> str:
    return socket.gethostname().lower()


def data_dir(state: dict) -> Path:
    return SNAP_DATA_ROOT / str(state["revision"])


def option(argv: list[str], name: str) -> str | None:
    """The value of --name=value or --name value."""
    for index, arg in enumerate(argv):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and index + 1 < len(argv):
            return argv[index + 1]
    return None


def positional(argv: list[str], takes_value: tuple[str, ...] = ()) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            if arg.lstrip("-") in takes_value and "=" not in arg:
                skip = True
            continue
        out.append(arg)
    return out


# --- snap ----------------------------------------------------------------------------------


def put_revision(state: dict, channel: str | None, track: str) -> None:
    version, revision = TRACKS[track]
    old = data_dir(state) if state["revision"] else None
    state.update(channel=channel, version=version, revision=revision, installed=True)
    new = data_dir(state)
    if old and old.exists() and old != new:
        # snapd copies $SNAP_DATA of the old revision to the new one on refresh.
        shutil.copytree(old, new, dirs_exist_ok=True)
        shutil.rmtree(old)
    for sub in ("args", "credentials", "certs", "var/lock"):
        (new / sub).mkdir(parents=True, exist_ok=True)
    kubelet = new / "args" / "kubelet"
    if not kubelet.exists():
        kubelet.write_text(STOCK_KUBELET_ARGS)
    current = SNAP_DATA_ROOT / "current"
    if current.is_symlink() or current.exists():
        current.unlink()
    current.symlink_to(str(revision))
    (SNAP_DATA_ROOT / "common").mkdir(parents=True, exist_ok=True)


def snap_install_files(state: dict) -> None:
    """What installing the snap does on the host: commands, group, data, cluster agent."""
    SNAP_BIN.mkdir(parents=True, exist_ok=True)
    link = SNAP_BIN / "microk8s"
    if not link.exists():
        link.symlink_to(SELF)
    subprocess.run(["groupadd", "--system", "-f", "microk8s"], check=True)
    state["ha"] = True
    state["addons"] = {"ha-cluster": True}
    state["nodes"] = {node_name(): {"address": own_ip(), "worker": False}}
    state["kubeconfig_secret"] = secrets.token_hex(16)
    AGENT_UNIT.write_text(
        "[Unit]\nDescription=Stand-in MicroK8s cluster agent (molecule)\n\n"
        f"[Service]\nExecStart=/usr/bin/python3 {SELF} agent\nRestart=always\n\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(
        ["systemctl", "enable", "--now", "snap.microk8s.daemon-cluster-agent.service"],
        check=True,
        capture_output=True,
    )
    wait_for_agent()


def wait_for_agent() -> None:
    for _ in range(50):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", AGENT_PORT)) == 0:
                return
        time.sleep(0.1)


def snap_list(state: dict, argv: list[str]) -> int:
    names = positional(argv)
    if names and names != ["microk8s"] or not state["installed"]:
        target = names[0] if names else "microk8s"
        return fail(f"error: no matching snaps installed: {target!r}" if names else "No snaps.")
    notes = "classic,held" if state["held"] else "classic"
    tracking = state["channel"] or "-"
    print("Name      Version   Rev    Tracking       Publisher   Notes")
    row = f"{state['version']:<9} {state['revision']:<6} {tracking:<14}"
    print(f"microk8s  {row} canonical✓  {notes}")
    return 0


def snap_info(state: dict, argv: list[str]) -> int:
    if positional(argv) != ["microk8s"]:
        return fail("error: no snap found")
    print("name:      microk8s")
    print("summary:   Kubernetes for workstations and appliances")
    print("publisher: Canonical✓")
    print("license:   Apache-2.0")
    if state["installed"]:
        print(f"tracking:     {state['channel'] or '-'}")
        print(f"installed:    {state['version']} ({state['revision']}) 180MB classic")
    print("channels:")
    for track, (version, revision) in sorted(TRACKS.items(), reverse=True):
        for risk in RISKS:
            print(f"  {track}/{risk}:{'':<6} {version} 2026-11-01 ({revision}) 180MB classic")
    return 0


def snap_install(state: dict, argv: list[str]) -> int:
    names = positional(argv, ("channel",))
    if not names:
        return fail("error: the required argument `<snap>` was not provided")
    target = names[0]
    if target.endswith(".snap"):
        path = Path(target)
        if not path.is_file():
            return fail(f'error: cannot open "{target}": no such file')
        if str(path.with_suffix(".assert").resolve()) not in state["acked"]:
            return fail(f'error: cannot find signatures with metadata for snap "{target}"', code=1)
        match = re.match(r"microk8s_([0-9]+)\.snap$", path.name)
        revisions = {rev: track for track, (_, rev) in TRACKS.items()}
        if not match or int(match.group(1)) not in revisions:
            return fail(f'error: cannot install "{target}": unknown revision')
        if state["installed"]:
            print("snap \"microk8s\" is already installed, see 'snap help refresh'")
            return 0
        put_revision(state, None, revisions[int(match.group(1))])
        snap_install_files(state)
        print(f"microk8s {state['version']} from Canonical✓ installed")
        return 0
    if target != "microk8s":
        return fail(f'error: snap "{target}" not found')
    if "--classic" not in argv:
        return fail('error: snap "microk8s" was published using classic confinement')
    if state["installed"]:
        print("snap \"microk8s\" is already installed, see 'snap help refresh'")
        return 0
    channel = option(argv, "channel") or "latest/stable"
    track = channel.split("/")[0]
    if track not in TRACKS or channel.split("/")[-1] not in RISKS:
        return fail(f'error: requested channel "{channel}" is not available for snap "microk8s"')
    put_revision(state, channel, track)
    snap_install_files(state)
    print(f"microk8s ({channel}) {state['version']} from Canonical✓ installed")
    return 0


def snap_refresh(state: dict, argv: list[str]) -> int:
    hold = [a for a in argv if a == "--hold" or a.startswith("--hold=")]
    if hold or "--unhold" in argv:
        if version_tuple(snapd_version()) < (2, 58):
            flag = "hold" if hold else "unhold"
            return fail(f"error: unknown flag `{flag}'")
        if positional(argv) != ["microk8s"] or not state["installed"]:
            return fail('error: snap "microk8s" is not installed')
        state["held"] = bool(hold)
        print('General refreshes of "microk8s" held indefinitely' if hold else "Removed hold")
        return 0
    if positional(argv, ("channel",)) != ["microk8s"] or not state["installed"]:
        return fail('error: snap "microk8s" is not installed')
    channel = option(argv, "channel") or state["channel"]
    track = (channel or "").split("/")[0]
    if track not in TRACKS:
        return fail(f'error: requested channel "{channel}" is not available')
    if channel == state["channel"]:
        print('snap "microk8s" has no updates available')
        return 0
    put_revision(state, channel, track)
    state["restarts"] += 1
    print(f"microk8s ({channel}) {state['version']} from Canonical✓ refreshed")
    return 0


def snap_get(state: dict, argv: list[str]) -> int:
    args = positional(argv)
    if len(args) != 2 or args[0] != "system":
        return fail("error: unsupported by the stand-in")
    if args[1] not in state["system"]:
        return fail(f'error: snap "core" has no "{args[1]}" configuration option')
    print(state["system"][args[1]])
    return 0


def snap_set(state: dict, argv: list[str]) -> int:
    args = positional(argv)
    if len(args) < 2 or args[0] != "system":
        return fail("error: unsupported by the stand-in")
    for pair in args[1:]:
        key, _, value = pair.partition("=")
        state["system"][key] = value
    return 0


def snap_remove(state: dict, argv: list[str]) -> int:
    if positional(argv) != ["microk8s"] or not state["installed"]:
        return fail('snap "microk8s" is not installed')
    subprocess.run(
        ["systemctl", "disable", "--now", "snap.microk8s.daemon-cluster-agent.service"],
        capture_output=True,
    )
    AGENT_UNIT.unlink(missing_ok=True)
    for name in ("microk8s", *state["aliases"]):
        (SNAP_BIN / name).unlink(missing_ok=True)
    if "--purge" in argv:
        shutil.rmtree(SNAP_DATA_ROOT, ignore_errors=True)
    keep = {"system": state["system"], "acked": state["acked"]}
    state.clear()
    state.update(fresh_state(), **keep)
    print("microk8s removed")
    return 0


def snap_main(argv: list[str]) -> int:
    if not argv:
        return fail("The snap command lets you install, configure, refresh and remove snaps.")
    command, rest = argv[0], argv[1:]
    if command == "version":
        version = snapd_version()
        print(f"snap    {version}\nsnapd   {version}\nseries  16\ndebian  12")
        return 0
    if command == "wait":
        return 0
    with State() as state:
        if command == "list":
            return snap_list(state, rest)
        if command == "info":
            return snap_info(state, rest)
        if command == "install":
            return snap_install(state, rest)
        if command == "ack":
            path = Path(rest[0]) if rest else None
            if path is None or not path.is_file():
                return fail("error: cannot read assertion file")
            if str(path.resolve()) not in state["acked"]:
                state["acked"].append(str(path.resolve()))
            return 0
        if command == "refresh":
            return snap_refresh(state, rest)
        if command == "get":
            return snap_get(state, rest)
        if command == "set":
            return snap_set(state, rest)
        if command == "alias":
            if len(rest) != 2 or rest[0] != "microk8s.kubectl" or not state["installed"]:
                return fail("error: cannot alias: not supported by the stand-in")
            link = SNAP_BIN / rest[1]
            if not link.is_symlink():
                link.symlink_to(SELF)
            if rest[1] not in state["aliases"]:
                state["aliases"].append(rest[1])
            print(f"Added:\n  - microk8s.kubectl as {rest[1]}")
            return 0
        if command == "restart":
            if rest != ["microk8s.daemon-kubelite"] or not state["installed"]:
                return fail("error: snap service not found")
            state["restarts"] += 1
            print("Restarted.")
            return 0
        if command == "remove":
            return snap_remove(state, rest)
    return fail(f'error: unknown command "{command}"')


# --- microk8s ------------------------------------------------------------------------------


def worker_lock(state: dict) -> Path:
    return data_dir(state) / "var" / "lock" / "clustered.lock"


def cert_check(state: dict) -> str:
    return hashlib.sha256(state["kubeconfig_secret"].encode()).hexdigest()[:12]


def refuse_on_worker(state: dict, what: str) -> int | None:
    if state["joined"] and state["joined"]["worker"]:
        print("This MicroK8s deployment is acting as a node in a cluster.")
        print(f"Please use the microk8s {what} on the master.")
        return 1
    return None


def status(state: dict, argv: list[str]) -> int:
    refused = refuse_on_worker(state, "status")
    if refused is not None:
        return refused
    if "--format" in argv and option(argv, "format") != "yaml":
        return fail("the stand-in only prints --format yaml")
    print("microk8s:\n  running: True")
    print("high-availability:")
    print(f"  enabled: {state['ha']}")
    if state["ha"]:
        print("  nodes:")
        for info in state["nodes"].values():
            if not info["worker"]:
                print(f"    - address: {info['address']}:19001\n      role: voter")
    print("addons:")
    for name in sorted(ADDONS):
        print(f"  - name: {name}\n    repository: core")
        print(f"    description: {ADDONS[name]}\n    version: 1.0.0")
        print(f"    status: {'enabled' if state['addons'].get(name) else 'disabled'}")
    return 0


def set_kubelet_flag(state: dict, flag: str, value: str) -> None:
    """What addon scripts do to the args file: add a flag when it is missing."""
    path = data_dir(state) / "args" / "kubelet"
    lines = path.read_text().splitlines()
    if not any(re.match(rf"^\s*{re.escape(flag)}(=|\s|$)", line) for line in lines):
        lines.append(f"{flag}={value}")
        path.write_text("\n".join(lines) + "\n")


def enable(state: dict, argv: list[str]) -> int:
    refused = refuse_on_worker(state, "enable")
    if refused is not None:
        return refused
    for name in positional(argv):
        if name not in ADDONS:
            return fail(f"Addon {name} was not found in any repository")
        if state["addons"].get(name):
            print(f"Addon core/{name} is already enabled")
            continue
        if name == "ha-cluster":
            state["ha"] = True
        if name == "dns":
            # The real dns addon points the kubelet at CoreDNS by editing the args file.
            set_kubelet_flag(state, "--cluster-domain", "cluster.local")
            set_kubelet_flag(state, "--cluster-dns", "10.152.183.10")
        state["addons"][name] = True
        print(f"Addon core/{name} is enabled")
    return 0


def disable(state: dict, argv: list[str]) -> int:
    refused = refuse_on_worker(state, "disable")
    if refused is not None:
        return refused
    for name in positional(argv):
        if name not in ADDONS:
            return fail(f"Addon {name} was not found in any repository")
        if name == "ha-cluster":
            if len(state["nodes"]) == 1 and "--force" not in argv:
                print("Disabling HA will reset your cluster in a clean state.")
                print("please use the '--force' flag.")
                return 2
            state["ha"] = False
            state["addons"] = {}
        state["addons"][name] = False
        print(f"Addon core/{name} is disabled")
    return 0


def kubeconfig(state: dict) -> str:
    secret = state["kubeconfig_secret"]
    ca = base64.b64encode(f"stand-in CA {secret}".encode()).decode()
    cert = base64.b64encode(f"stand-in admin cert {secret}".encode()).decode()
    key = base64.b64encode(f"stand-in admin key {secret}".encode()).decode()
    return (
        "apiVersion: v1\nclusters:\n- cluster:\n"
        f"    certificate-authority-data: {ca}\n    server: https://{own_ip()}:16443\n"
        "  name: microk8s-cluster\ncontexts:\n- context:\n    cluster: microk8s-cluster\n"
        "    user: admin\n  name: microk8s\ncurrent-context: microk8s\nkind: Config\n"
        "preferences: {}\nusers:\n- name: admin\n  user:\n"
        f"    client-certificate-data: {cert}\n    client-key-data: {key}\n"
    )


def add_node(state: dict, argv: list[str]) -> int:
    token = option(argv, "token") or secrets.token_hex(16)
    if len(token) < 32:
        print("Invalid token size.  It must be 32 characters long.")
        return 1
    ttl = int(option(argv, "token-ttl") or -1)
    state["tokens"][token] = (time.time() + ttl) if ttl > 0 else -1
    check = cert_check(state)
    if option(argv, "format") == "token-check":
        print(f"{token}/{check}")
        return 0
    print("From the node you wish to join to this cluster, run the following:")
    print(f"microk8s join {own_ip()}:{AGENT_PORT}/{token}/{check}\n")
    print("Use the '--worker' flag to join a node as a worker not running the control plane, eg:")
    print(f"microk8s join {own_ip()}:{AGENT_PORT}/{token}/{check} --worker")
    return 0


def join(state: dict, argv: list[str]) -> int:
    args = positional(argv)
    match = re.match(r"^([0-9.]+):([0-9]+)/([0-9a-f]{32})/([0-9a-f]+)$", args[0] if args else "")
    if not match:
        return fail("Invalid connection string. Expected <address>:<port>/<token>/<check>.")
    if state["joined"]:
        return fail("This node is already part of a cluster.")
    address, port, token, check = match.groups()
    worker = "--worker" in argv
    body = json.dumps(
        {"token": token, "check": check, "name": node_name(), "address": own_ip(), "worker": worker}
    ).encode()
    print(f"Contacting cluster at {address}")
    request = urllib.request.Request(
        f"http://{address}:{port}/cluster/api/v2.0/join",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        return fail(f"Connection failed. {error.read().decode().strip()} ({error.code})")
    except OSError as error:
        return fail(f"Connection failed. The joining node ({address}) is unreachable: {error}")
    state["joined"] = {"address": address, "worker": worker}
    if worker:
        worker_lock(state).touch()
    else:
        state["nodes"].update(answer["nodes"])
    print("Successfully joined the cluster." if not worker else "The node has joined the cluster.")
    return 0


def kubectl(state: dict, argv: list[str]) -> int:
    refused = refuse_on_worker(state, "kubectl")
    if refused is not None:
        return refused
    args = positional(argv, ("o", "output", "timeout"))
    output = option(argv, "o") or option(argv, "output") or ""
    if "-o" in argv:
        output = argv[argv.index("-o") + 1]
    if args[:2] in (["get", "nodes"], ["get", "node"]):
        names = args[2:] or sorted(state["nodes"])
        missing = [name for name in names if name not in state["nodes"]]
        if missing:
            return fail(f'Error from server (NotFound): nodes "{missing[0]}" not found')
        if output == "name":
            print("\n".join(f"node/{name}" for name in names))
        elif output.startswith("jsonpath") and "Ready" in output:
            print(" ".join("True" for _ in names))
        else:
            print("NAME   STATUS   ROLES    AGE   VERSION")
            for name in names:
                cordoned = ",SchedulingDisabled" if state["nodes"][name].get("cordoned") else ""
                print(f"{name}   Ready{cordoned}   <none>   1d    {state['version']}")
        return 0
    if args[:1] in (["drain"], ["cordon"], ["uncordon"]) and len(args) == 2:
        if args[1] not in state["nodes"]:
            return fail(f'Error from server (NotFound): nodes "{args[1]}" not found')
        state["nodes"][args[1]]["cordoned"] = args[0] != "uncordon"
        print(f"node/{args[1]} {args[0]}ed")
        return 0
    return fail("the stand-in kubectl knows get nodes, drain, cordon and uncordon")


def microk8s_main(argv: list[str]) -> int:
    if not argv:
        return fail("Available subcommands are: status enable disable config add-node join ...")
    command, rest = argv[0], argv[1:]
    with State() as state:
        if not state["installed"]:
            return fail("microk8s: command not found", code=127)
        if command == "status":
            return status(state, rest)
        if command == "enable":
            return enable(state, rest)
        if command == "disable":
            return disable(state, rest)
        if command == "config":
            refused = refuse_on_worker(state, "config")
            if refused is not None:
                return refused
            print(kubeconfig(state), end="")
            return 0
        if command == "add-node":
            return add_node(state, rest)
        if command == "join":
            return join(state, rest)
        if command == "kubectl":
            return kubectl(state, rest)
        if command == "reset":
            state["addons"] = {"ha-cluster": state["ha"]}
            print("Cleaning resources in namespace default")
            return 0
        if command == "inspect":
            print("Inspecting services (stand-in: nothing to inspect)")
            return 0
    return fail(f"'{command}' is not a valid MicroK8s subcommand.")


# --- cluster agent -------------------------------------------------------------------------


class Agent(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (the http.server API)
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        log_call("cluster-agent", ["join", request.get("name", "?"), request.get("address", "?")])
        with State() as state:
            expiry = state["tokens"].get(request.get("token"))
            valid = expiry is not None and (expiry == -1 or expiry > time.time())
            if not valid or request.get("check") != cert_check(state):
                self._answer(403, {"error": "Invalid token"})
                return
            if expiry == -1:
                del state["tokens"][request["token"]]
            state["nodes"][request["name"]] = {
                "address": request["address"],
                "worker": request["worker"],
            }
            self._answer(200, {"nodes": state["nodes"]})

    def _answer(self, code: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


def main() -> int:
    prog = Path(sys.argv[0]).name
    argv = sys.argv[1:]
    if argv[:1] == ["agent"] and prog == "standin.py":
        HTTPServer(("0.0.0.0", AGENT_PORT), Agent).serve_forever()
        return 0
    if prog == "kubectl":
        prog, argv = "microk8s", ["kubectl", *argv]
    log_call(prog, argv)
    if prog == "snap":
        return snap_main(argv)
    if prog == "microk8s":
        return microk8s_main(argv)
    return fail(f"stand-in: unknown program {prog} ({shlex.join(sys.argv)})")


if __name__ == "__main__":
    sys.exit(main())
