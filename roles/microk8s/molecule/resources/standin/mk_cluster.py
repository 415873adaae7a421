"""Clustering: `microk8s add-node`, `join`, `leave`, `remove-node`, and the cluster agent the
join talks to (canonical/microk8s v1.36 scripts/wrappers/{join,leave,remove_node}.py and their
wrappers; canonical/microk8s-cluster-agent pkg/api/v2/join.go)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from common import (
    AGENT_PORT,
    STOCK_KUBELET_ARGS,
    State,
    data_dir,
    fail,
    lock_file,
    log_call,
    node_name,
    option,
    own_ip,
    positional,
    restart_kubelite,
    running,
    say,
)


def cert_check(state: dict) -> str:
    return hashlib.sha256(state["kubeconfig_secret"].encode()).hexdigest()[:12]


def post(address: str, port: int, path: str, body: dict, timeout: float = 10) -> dict:
    request = urllib.request.Request(
        f"http://{address}:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def add_node(state: dict, argv: list[str]) -> int:
    if lock_file(state, "clustered.lock").exists():
        return say(
            "This MicroK8s deployment is acting as a node in a cluster. "
            "Please use the microk8s add-node on the master.",
            1,
        )
    token = option(argv, "token") or secrets.token_hex(16)
    if len(token) < 32:
        return say("Invalid token size.  It must be 32 characters long.", 1)
    ttl = int(option(argv, "token-ttl") or -1)
    state["tokens"][token] = (time.time() + ttl) if ttl > 0 else -1
    check = cert_check(state)
    if option(argv, "format") == "token-check":
        print(f"{token}/{check}")
        return 0
    print("From the node you wish to join to this cluster, run the following:")
    print(f"microk8s join {own_ip()}:{AGENT_PORT}/{token}/{check}\n")
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
    body = {
        "token": token,
        "check": check,
        "name": node_name(),
        "address": own_ip(),
        "agent": AGENT_PORT,
        "worker": worker,
    }
    print(f"Contacting cluster at {address}")
    try:
        answer = post(address, int(port), "/cluster/api/v2.0/join", body)
    except urllib.error.HTTPError as error:
        return fail(f"Connection failed. {error.read().decode().strip()} ({error.code})")
    except OSError as error:
        return fail(f"Connection failed. The joining node ({address}) is unreachable: {error}")
    # join.py store_base_kubelet_args: the primary's whole args/kubelet (the agent's
    # ReadServiceArguments("kubelet"), cluster-agent pkg/api/v2/join.go) replaces the joiner's;
    # update_kubelet_hostname_override drops --hostname-override, update_kubelet_node_ip
    # points --node-ip at this node.
    lines = []
    for line in answer["kubelet_args"].splitlines():
        if line.strip().startswith("--hostname-override"):
            continue
        if line.strip().startswith("--node-ip"):
            line = f"--node-ip={own_ip()}"
        lines.append(line)
    (data_dir(state) / "args" / "kubelet").write_text("\n".join(lines) + "\n")
    # join.py: mark_no_cert_reissue on every join; mark_worker_node: clustered.lock and
    # no-k8s-dqlite on a worker. Then the services restart with the new arguments.
    lock_file(state, "no-cert-reissue").touch()
    state["joined"] = {"address": address, "agent": int(port), "worker": worker}
    if worker:
        lock_file(state, "clustered.lock").touch()
        lock_file(state, "no-k8s-dqlite").touch()
    else:
        state["nodes"].update(answer["nodes"])
    restart_kubelite(state)
    print("Successfully joined the cluster." if not worker else "The node has joined the cluster.")
    return 0


def leave(state: dict, argv: list[str]) -> int:
    # microk8s-leave.wrapper: exit_if_stopped (exit 1), then "not acting as a node" (exit 1)
    # unless no-cert-reissue is there and either clustered.lock or args/k8s-dqlite.
    if lock_file(state, "stopped.lock").exists():
        return fail("microk8s is not running, try microk8s start")
    clustered = lock_file(state, "clustered.lock").exists()
    if not lock_file(state, "no-cert-reissue").exists() or not (clustered or state["ha"]):
        return say("This MicroK8s deployment is not acting as a node in a cluster.", 1)
    joined = state["joined"] or {}
    if clustered:
        # leave.py reset_current_dqlite_worker_installation: default-args/kubelet copied back,
        # locks removed, services restarted. The control plane is not told: the node stays
        # listed there (NotReady) until `microk8s remove-node` on the control plane.
        (data_dir(state) / "args" / "kubelet").write_text(STOCK_KUBELET_ARGS)
        for name in ("clustered.lock", "no-k8s-dqlite", "no-cert-reissue"):
            lock_file(state, name).unlink(missing_ok=True)
    else:
        # leave.py reset_current_dqlite_installation: the node deletes itself from dqlite
        # (delete_dqlite_node), then starts again as a cluster of its own.
        try:
            post(joined["address"], joined["agent"], "/standin/dqlite-leave", {"name": node_name()})
        except OSError as error:
            return fail(f"Contacting node {joined.get('address')} failed. Error: {error!r}", 2)
        lock_file(state, "no-cert-reissue").unlink(missing_ok=True)
        state["nodes"] = {node_name(): {"address": own_ip(), "agent": AGENT_PORT, "worker": False}}
        state["kubeconfig_secret"] = secrets.token_hex(16)
    state["joined"] = None
    restart_kubelite(state)
    return 0


def remove_node(state: dict, argv: list[str]) -> int:
    # microk8s-remove-node.wrapper, then remove_node.py remove_dqlite_node / remove_node.
    if lock_file(state, "clustered.lock").exists():
        return say(
            "This MicroK8s deployment is acting as a node in a cluster. Please use microk8s leave.",
            1,
        )
    args = positional(argv)
    if not args:
        return say("Please provide the node you want to remove.", 1)
    force = "--force" in argv
    if state["ha"] and len(argv) == 2 and not force:
        return say("Please provide the node and the optional --force flag.", 1)
    if not running(state):
        return say(f"Node {args[0]} does not exist in Kubernetes.", 1)
    name = args[0]
    info = state["nodes"].get(name)
    if info is None:
        return say(f"Node {name} does not exist in Kubernetes.", 1)
    if not info["worker"] and info.get("dqlite", True) and not force:
        return say(
            f"Removal failed. Node {name} is registered with dqlite. "
            "Please, run first 'microk8s leave' on the departing node.",
            1,
        )
    del state["nodes"][name]
    return 0


def node_ready(state: dict, name: str) -> str:
    """The Ready condition the control plane shows: this node's own kubelet, or what the other
    node's kubelet reports (the stand-in asks its agent; a node that left reports nothing)."""
    if name == node_name():
        return "True" if running(state) else "Unknown"
    info = state["nodes"][name]
    try:
        with urllib.request.urlopen(
            f"http://{info['address']}:{info.get('agent', AGENT_PORT)}/standin/kubelet", timeout=5
        ) as response:
            answer = json.loads(response.read())
    except OSError:
        return "Unknown"
    if answer.get("member_of") != own_ip():
        return "Unknown"
    return "True" if answer.get("ok") else "Unknown"


class Agent(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        with State() as state:
            joined = state["joined"] or {}
            self._answer(200, {"ok": running(state), "member_of": joined.get("address")})

    def do_POST(self) -> None:  # noqa: N802 (the http.server API)
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/standin/dqlite-leave":
            log_call("cluster-agent", ["dqlite-leave", request.get("name", "?")])
            with State() as state:
                if request.get("name") in state["nodes"]:
                    state["nodes"][request["name"]]["dqlite"] = False
            self._answer(200, {})
            return
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
                "agent": request.get("agent", AGENT_PORT),
                "worker": request["worker"],
            }
            # pkg/api/v2/join.go: KubeletArgs = a.Snap.ReadServiceArguments("kubelet").
            kubelet_args = (data_dir(state) / "args" / "kubelet").read_text()
            self._answer(200, {"nodes": state["nodes"], "kubelet_args": kubelet_args})

    def _answer(self, code: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


def serve_agent() -> None:
    HTTPServer(("0.0.0.0", AGENT_PORT), Agent).serve_forever()
