"""State, paths and helpers shared by the stand-in's commands.

Every path sits under ONEBOX_STANDIN_ROOT (default "/"), so tests/test_standin.py can run the
stand-in in a temporary directory; with the default root it is the container's real filesystem
and it uses systemd and groupadd like the snap does.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(os.environ.get("ONEBOX_STANDIN_ROOT", "/"))
# In a molecule container (root "/") the stand-in touches systemd and /etc/group like the snap.
SYSTEM = str(ROOT) == "/"
STATE = ROOT / "var/lib/onebox-standin/state.json"
LOCK = ROOT / "var/lib/onebox-standin/state.lock"
LOG = ROOT / "var/log/onebox-standin/calls.log"
SNAPD_VERSION_FILE = ROOT / "etc/onebox-standin/snapd-version"
# Present: the host reaches no network beyond its cluster (an air-gapped VM). Addons that
# download (charts, manifests) fail then, as the real scripts do under `set -e`.
OFFLINE_FILE = ROOT / "etc/onebox-standin/offline"
SELF = Path(__file__).resolve().parent / "standin.py"
SNAP_DATA_ROOT = ROOT / "var/snap/microk8s"
SNAP_BIN = ROOT / "snap/bin"
AGENT_UNIT = ROOT / "etc/systemd/system/snap.microk8s.daemon-cluster-agent.service"
AGENT_PORT = int(os.environ.get("ONEBOX_STANDIN_AGENT_PORT", "25000"))

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

# canonical/microk8s v1.36 microk8s-resources/default-args/kubelet: what `snap install` writes
# and what `microk8s leave` copies back on a worker (scripts/wrappers/leave.py). No
# --system-reserved, --kube-reserved or --eviction-soft: MicroK8s reserves nothing by itself.
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
        "resources": [],
        "helm": {},
        "tokens": {},
        "nodes": {},
        "joined": None,
        "restarts": 0,
        "kubelet_ok": True,
        "kubelet_error": "",
        "kubeconfig_secret": None,
    }


class State:
    """The state file, locked for the whole command (the agent writes it too)."""

    def __enter__(self) -> dict:
        LOCK.parent.mkdir(parents=True, exist_ok=True)
        self._lock = LOCK.open("w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.data = fresh_state()
        if STATE.exists():
            self.data.update(json.loads(STATE.read_text()))
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


def say(message: str, code: int) -> int:
    """The wrappers' refusals print on stdout and pick their own exit code."""
    print(message)
    return code


def offline() -> bool:
    return OFFLINE_FILE.exists()


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"[0-9]+", text)[:3])


def track_of(state: dict) -> tuple[int, ...]:
    return version_tuple(state["version"] or "0.0")[:2]


def own_ip() -> str:
    if os.environ.get("ONEBOX_STANDIN_IP"):
        return os.environ["ONEBOX_STANDIN_IP"]
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return out[0] if out else "127.0.0.1"


def node_name() -> str:
    return os.environ.get("ONEBOX_STANDIN_NODE") or socket.gethostname().lower()


def data_dir(state: dict) -> Path:
    return SNAP_DATA_ROOT / str(state["revision"])


def lock_file(state: dict, name: str) -> Path:
    return data_dir(state) / "var" / "lock" / name


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


# --- kubelite ------------------------------------------------------------------------------


def read_args_file(state: dict, path: Path) -> list[str]:
    """canonical/microk8s v1.36 build-scripts/components/kubernetes/patches/v1.27.0/
    0000-Kubelite-integration.patch, ReadArgsFromFile: no shell; trims each line, skips empty
    and # lines, deletes every " and ', splits on spaces, expands $VARS (SNAP_DATA, SNAP_COMMON).
    """
    env = {"SNAP_DATA": str(data_dir(state)), "SNAP_COMMON": str(SNAP_DATA_ROOT / "common")}
    args: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.replace('"', "").replace("'", "")
        for part in line.split(" "):
            args.append(re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), part))
    return args


def restart_kubelite(state: dict) -> None:
    """Kubelite starts the kubelet with args/kubelet; when the kubelet cannot start (its --config
    file cannot be loaded), StartKubelet calls klog.Fatalf("Kubelet exited ...") and the whole
    kubelite process ends, API server included (0000-Kubelite-integration.patch, StartKubelet).
    """
    state["restarts"] += 1
    state["kubelet_ok"], state["kubelet_error"] = True, ""
    args_file = data_dir(state) / "args" / "kubelet"
    for arg in read_args_file(state, args_file):
        if arg.startswith("--config="):
            config = Path(arg.split("=", 1)[1])
            if not config.is_file():
                state["kubelet_ok"] = False
                state["kubelet_error"] = f"Kubelet exited: cannot load kubelet config {config}"


def running(state: dict) -> bool:
    """Kubelite is up (stopped.lock absent, the kubelet started)."""
    if not state["installed"] or not state["kubelet_ok"]:
        return False
    return not lock_file(state, "stopped.lock").exists()
