"""What the memory budget counts for an app's profile (onebox_app, roles/app/README.md).

- ``onebox_app | app_profile_workloads`` -> ``[{name, memory, variable}, ...]``: one row per
  process (each its own Deployment) and one for the release Job, which runs beside the old
  pods. The Job's init containers run one at a time and the last command is its container,
  so the Job holds the largest command's memory, never the sum. One more row for the one-off
  pod of ``playbooks/run.yml`` (``run_memory``, else ``release_memory``): it runs beside
  everything else, one at a time (a fixed name). ``variable`` names where a person changes the
  number.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one quantity parser, from the sibling plugin (Ansible loads plugins by path, not as a
# package, so a plain import would not find it).
_spec = importlib.util.spec_from_file_location(
    "onebox_memory_budget", Path(__file__).with_name("memory_budget.py")
)
_memory_budget = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_memory_budget)
k8s_quantity_bytes = _memory_budget.k8s_quantity_bytes

# roles/app/vars/main.yml, _app_profile_defaults: a command without memory gets this.
_DEFAULT_RELEASE_MEMORY = "128Mi"


def app_profile_workloads(profile: object, name: str = "onebox_app") -> list[dict]:
    if not isinstance(profile, Mapping):
        raise AnsibleFilterError(f"{name} must be the app's profile (a mapping), got {profile!r}.")
    processes = profile.get("processes")
    if not isinstance(processes, Mapping) or "web" not in processes:
        raise AnsibleFilterError(
            f"{name}.processes must hold at least web, each with its memory (roles/app/README.md)."
        )
    rows = []
    for process in ["web", *sorted(p for p in processes if p != "web")]:
        settings = processes[process]
        if not isinstance(settings, Mapping) or "memory" not in settings:
            raise AnsibleFilterError(f"{name}.processes.{process}.memory is missing.")
        rows.append(
            {
                "name": f"app {process}",
                "memory": settings["memory"],
                "variable": f"{name}.processes.{process}.memory",
            }
        )
    default = profile.get("release_memory", _DEFAULT_RELEASE_MEMORY)
    steps = profile.get("release") or []
    if not isinstance(steps, list):
        raise AnsibleFilterError(f"{name}.release must be a list of {{name, command, memory}}.")
    if steps:
        # Only the largest counts; name the variable that set it.
        sized = [
            (
                step.get("memory", default) if isinstance(step, Mapping) else default,
                f"{name}.release[{index}].memory"
                if isinstance(step, Mapping) and "memory" in step
                else f"{name}.release_memory",
            )
            for index, step in enumerate(steps)
        ]
        memory, variable = max(sized, key=lambda pair: k8s_quantity_bytes(pair[0], pair[1]))
        rows.append({"name": "app release Job", "memory": memory, "variable": variable})
    # roles/app/tasks/run_once.yml: one pod at a time (its name is fixed), with this memory.
    run_variable = f"{name}.run_memory" if "run_memory" in profile else f"{name}.release_memory"
    rows.append(
        {
            "name": "app one-off pod",
            "memory": profile.get("run_memory", default),
            "variable": run_variable,
        }
    )
    return rows


class FilterModule:
    def filters(self) -> dict:
        return {"app_profile_workloads": app_profile_workloads}
