#!/usr/bin/python3
"""Stand-in for `snap` and `microk8s` in the molecule containers (the snap store is out of reach).

Installed by molecule/resources/prepare_standin.yml (this directory goes to
/usr/local/lib/onebox-standin/) at the paths of the real commands: /usr/bin/snap (Debian's binary
is diverted to /usr/bin/snap.debian before snapd is installed), and, once `snap install
microk8s` ran, /snap/bin/microk8s (and /snap/bin/kubectl after `snap alias microk8s.kubectl
kubectl`), all symlinks to this file, which dispatches on argv[0] to one module per command:
snapcmd (snap), mk_status, mk_addons (enable/disable), mk_cluster (add-node/join/leave/
remove-node and the cluster agent), mk_reset, mk_kubectl (kubectl/helm3/config).

Each behaviour the role depends on follows MicroK8s' own source, cited beside it
(canonical/microk8s v1.36, canonical/microk8s-core-addons, canonical/microk8s-cluster-agent).
State is one JSON file; every call is appended to a log, one JSON array (argv) per line, so the
scenarios can check the commands the role ran. tests/test_standin.py pins the behaviours.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mk_addons  # noqa: E402
import mk_cluster  # noqa: E402
import mk_kubectl  # noqa: E402
import mk_reset  # noqa: E402
import mk_status  # noqa: E402
import snapcmd  # noqa: E402
from common import State, fail, log_call  # noqa: E402

COMMANDS = {
    "status": mk_status.status,
    "enable": mk_addons.enable,
    "disable": mk_addons.disable,
    "config": mk_kubectl.config,
    "kubectl": mk_kubectl.kubectl,
    "helm3": mk_kubectl.helm3,
    "add-node": mk_cluster.add_node,
    "join": mk_cluster.join,
    "leave": mk_cluster.leave,
    "remove-node": mk_cluster.remove_node,
    "reset": mk_reset.reset,
}


def microk8s_main(argv: list[str]) -> int:
    if not argv:
        return fail("Available subcommands are: status enable disable config add-node join ...")
    command, rest = argv[0], argv[1:]
    with State() as state:
        if not state["installed"]:
            return fail("microk8s: command not found", code=127)
        if command in COMMANDS:
            return COMMANDS[command](state, rest)
        if command == "inspect":
            print("Inspecting services (stand-in: nothing to inspect)")
            return 0
    return fail(f"'{command}' is not a valid MicroK8s subcommand.")


def main() -> int:
    prog = Path(sys.argv[0]).name
    argv = sys.argv[1:]
    if argv[:1] == ["agent"] and prog == "standin.py":
        mk_cluster.serve_agent()
        return 0
    if prog == "kubectl":
        prog, argv = "microk8s", ["kubectl", *argv]
    log_call(prog, argv)
    if prog == "snap":
        return snapcmd.main(argv)
    if prog == "microk8s":
        return microk8s_main(argv)
    return fail(f"stand-in: unknown program {prog} ({shlex.join(sys.argv)})")


if __name__ == "__main__":
    sys.exit(main())
