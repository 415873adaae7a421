"""`microk8s kubectl`, `microk8s helm3` and `microk8s config` for what the role asks of them
(canonical/microk8s v1.36 microk8s-resources/wrappers/microk8s-{kubectl,helm3,config}.wrapper)."""

from __future__ import annotations

import base64
import json

from common import fail, lock_file, offline, option, own_ip, positional, running, say
from mk_cluster import node_ready

REFUSED = (
    "The connection to the server 127.0.0.1:16443 was refused"
    " - did you specify the right host or port?"
)


def kubectl(state: dict, argv: list[str]) -> int:
    # microk8s-kubectl.wrapper: on a worker a message and exit 0; stopped: exit 1.
    if lock_file(state, "clustered.lock").exists():
        return say(
            "This MicroK8s deployment is acting as a node in a cluster. "
            "Please use the microk8s kubectl on the master.",
            0,
        )
    if lock_file(state, "stopped.lock").exists():
        return fail("microk8s is not running, try microk8s start")
    if not running(state):
        return fail(REFUSED)
    args = positional(argv, ("o", "output", "timeout", "n", "namespace"))
    output = option(argv, "output") or ""
    if "-o" in argv:
        output = argv[argv.index("-o") + 1]
    namespace = option(argv, "namespace") or (argv[argv.index("-n") + 1] if "-n" in argv else "")
    if args[:2] in (["get", "nodes"], ["get", "node"], ["get", "no"]):
        names = args[2:] or sorted(state["nodes"])
        missing = [name for name in names if name not in state["nodes"]]
        if missing:
            return fail(f'Error from server (NotFound): nodes "{missing[0]}" not found')
        if output == "name":
            print("\n".join(f"node/{name}" for name in names))
        elif output.startswith("jsonpath") and "Ready" in output:
            print(" ".join(node_ready(state, name) for name in names))
        else:
            print("NAME   STATUS   ROLES    AGE   VERSION")
            for name in names:
                ready = "Ready" if node_ready(state, name) == "True" else "NotReady"
                cordoned = ",SchedulingDisabled" if state["nodes"][name].get("cordoned") else ""
                print(f"{name}   {ready}{cordoned}   <none>   1d    {state['version']}")
        return 0
    if args[:1] in (["drain"], ["cordon"], ["uncordon"]) and len(args) == 2:
        if args[1] not in state["nodes"]:
            return fail(f'Error from server (NotFound): nodes "{args[1]}" not found')
        state["nodes"][args[1]]["cordoned"] = args[0] != "uncordon"
        print(f"node/{args[1]} {args[0]}ed")
        return 0
    if args[:1] == ["get"] and len(args) == 3:
        # get <kind> <name> [-n ns] -o name: the addon resources the stand-in keeps.
        kind, name = args[1].split(".")[0].rstrip("s"), args[2]
        key = f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
        if key in state["resources"]:
            print(f"{kind}/{name}")
            return 0
        return fail(f'Error from server (NotFound): {args[1]} "{name}" not found')
    return fail("the stand-in kubectl knows get nodes, get <kind> <name>, drain, cordon, uncordon")


def helm3(state: dict, argv: list[str]) -> int:
    """helm list / get values / upgrade --reuse-values --set, for the ingress addon's release."""
    if not running(state):
        return fail("Error: Kubernetes cluster unreachable")
    args = positional(argv, ("n", "namespace", "o", "output", "version", "set"))
    releases = state["helm"]
    if args[:1] == ["list"]:
        rows = [
            {"name": name, "namespace": rel["namespace"], "chart": f"traefik-{rel['chart']}"}
            for name, rel in releases.items()
        ]
        print(json.dumps(rows))
        return 0
    if args[:2] == ["get", "values"] and len(args) == 3:
        if args[2] not in releases:
            return fail("Error: release: not found")
        print(json.dumps(releases[args[2]]["values"]))
        return 0
    if args[:1] == ["upgrade"] and len(args) == 3:
        name = args[1]
        if name not in releases:
            return fail(f'Error: UPGRADE FAILED: "{name}" has no deployed releases')
        if offline():
            return fail('Error: looks like "https://traefik.github.io/charts" cannot be reached')
        version = option(argv, "version")
        release = releases[name]
        # Without --version helm takes the newest chart of the repository.
        release["chart"] = version or "99.0.0"
        values = release["values"] if "--reuse-values" in argv else {}
        sets = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--set"]
        sets += [arg.split("=", 1)[1] for arg in argv if arg.startswith("--set=")]
        for pair in sets:
            if pair:
                key, _, raw = pair.partition("=")
                value = {"true": True, "false": False}.get(raw, raw)
                target = values
                for part in key.split(".")[:-1]:
                    target = target.setdefault(part, {})
                target[key.split(".")[-1]] = value
        release["values"] = values
        print(f'Release "{name}" has been upgraded. Happy Helming!')
        return 0
    return fail("the stand-in helm3 knows list, get values and upgrade")


def config(state: dict, argv: list[str]) -> int:
    if lock_file(state, "clustered.lock").exists():
        return say(
            "This MicroK8s deployment is acting as a node in a cluster. "
            "Please use the microk8s config on the master.",
            0,
        )
    secret = state["kubeconfig_secret"]
    ca = base64.b64encode(f"stand-in CA {secret}".encode()).decode()
    cert = base64.b64encode(f"stand-in admin cert {secret}".encode()).decode()
    key = base64.b64encode(f"stand-in admin key {secret}".encode()).decode()
    print(
        "apiVersion: v1\nclusters:\n- cluster:\n"
        f"    certificate-authority-data: {ca}\n    server: https://{own_ip()}:16443\n"
        "  name: microk8s-cluster\ncontexts:\n- context:\n    cluster: microk8s-cluster\n"
        "    user: admin\n  name: microk8s\ncurrent-context: microk8s\nkind: Config\n"
        "preferences: {}\nusers:\n- name: admin\n  user:\n"
        f"    client-certificate-data: {cert}\n    client-key-data: {key}",
    )
    return 0
