"""`microk8s reset` (canonical/microk8s v1.36 scripts/wrappers/reset.py and common/utils.py)."""

from __future__ import annotations

from common import lock_file, running
from mk_addons import addon_catalog, addon_enabled, disable_ingress
from mk_status import wait


def reset(state: dict, argv: list[str]) -> int:
    # preflight_check: is_cluster_locked (a worker: exit 1), ensure_started (stopped: exit 1),
    # wait_for_ready(timeout=30) whose answer is ignored, exit_if_multinode.
    if lock_file(state, "clustered.lock").exists():
        print("This MicroK8s deployment is acting as a node in a cluster.")
        print("Please use the master node.")
        return 1
    if lock_file(state, "stopped.lock").exists():
        print("microk8s is not running, try microk8s start")
        return 1
    if not running(state):
        wait(30)
        # exit_if_multinode: `kubectl get no -o name` fails while the API server is down.
        print("Failed to query the cluster nodes.")
        return 1
    if len(state["nodes"]) > 1:
        print(
            "This is a multi-node MicroK8s deployment. "
            "Reset is applicable for single node clusters."
        )
        print("Please remove all joined nodes before calling reset.")
        return 0
    # disable_addons: every enabled addon but ha-cluster and community; then the CNI and the
    # cluster's resources are deleted and the CNI applied again.
    print("Disabling all addons")
    for name in addon_catalog(state):
        if name == "ha-cluster" or not addon_enabled(state, name):
            continue
        if name == "ingress":
            disable_ingress(state)
        state["addons"][name] = False
    print("Cleaning resources in namespace default")
    return 0
