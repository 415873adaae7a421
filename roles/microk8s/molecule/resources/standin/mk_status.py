"""`microk8s status` (canonical/microk8s v1.36 microk8s-resources/wrappers/microk8s-status.wrapper
and scripts/wrappers/status.py)."""

from __future__ import annotations

import os
import time

from common import fail, lock_file, option, running
from mk_addons import addon_catalog, addon_enabled

NOT_RUNNING = "microk8s is not running. Use microk8s inspect for a deeper inspection."


def wait(seconds: float) -> None:
    """The real commands poll every 2 s until their timeout; ONEBOX_STANDIN_FAST (the stand-in's
    own tests) skips the wait, never the outcome."""
    if not os.environ.get("ONEBOX_STANDIN_FAST"):
        time.sleep(seconds)


def status(state: dict, argv: list[str]) -> int:
    # microk8s-status.wrapper: a worker answers with a message and exit 0.
    if lock_file(state, "clustered.lock").exists():
        print("This MicroK8s deployment is acting as a node in a cluster.")
        print("Please use the control plane node.")
        return 0
    # common/utils.py exit_if_stopped: message, exit 0.
    if lock_file(state, "stopped.lock").exists():
        print("microk8s is not running, try microk8s start")
        return 0
    if "--format" in argv and option(argv, "format") != "yaml":
        return fail("the stand-in only prints --format yaml")
    ready = running(state)
    if not ready and "--wait-ready" in argv:
        # common/utils.py wait_for_ready: polls until the timeout (0: forever), then gives up.
        wait(float(option(argv, "timeout") or 0) or 3600)
    print("microk8s:")
    print(f"  running: {ready}")
    print("high-availability:")
    print(f"  enabled: {state['ha']}")
    if state["ha"]:
        print("  nodes:")
        for info in state["nodes"].values():
            if not info["worker"] and info.get("dqlite", True):
                print(f"    - address: {info['address']}:19001\n      role: voter")
    if ready:
        print("addons:")
        for name, description in addon_catalog(state).items():
            print(f"  - name: {name}\n    repository: core")
            print(f"    description: {description}\n    version: 1.0.0")
            print(f"    status: {'enabled' if addon_enabled(state, name) else 'disabled'}")
    else:
        print(f"  message: {NOT_RUNNING}")
        # status.py: `if not is_ready: sys.exit(1)`, with or without --wait-ready.
        return 1
    return 0
