"""CPU seconds of a playbook of checks with and without plugins/callback/onebox_preload.py.

    .venv/bin/python tests/bench_ansible_preload.py [--hosts 10] [--tasks 40] [--runs 3]

The playbook is the shape of onebox's preflight: asserts that use Ansible's filters and tests,
on local hosts. A benchmark, not a test: it prints the figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
from pathlib import Path

import yaml
from conftest import run_playbook


def write_inputs(directory: Path, hosts: int, tasks: int) -> tuple[Path, Path]:
    inventory = directory / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                    },
                    "hosts": {f"case{number}": {"size": f"{number}Mi"} for number in range(hosts)},
                }
            }
        )
    )
    checks = [
        {
            "name": f"Check {number}",
            "ansible.builtin.assert": {
                "that": [
                    "'yes' | bool",
                    "'/srv/backups' | basename == 'backups'",
                    "size is match('^[0-9]+Mi$')",
                    "[size, size] | unique | length == 1",
                ],
                "quiet": True,
            },
        }
        for number in range(tasks)
    ]
    playbook = directory / "checks.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "all", "gather_facts": False, "tasks": checks}]))
    return inventory, playbook


def cpu_seconds(
    inventory: Path, playbook: Path, preload: bool, directory_without_plugins: str
) -> float:
    # Without: the callback stays enabled but is not found; Ansible warns and runs without it.
    env = {} if preload else {"ANSIBLE_CALLBACK_PLUGINS": directory_without_plugins}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_playbook(playbook, "-i", str(inventory), env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(result.stdout[-2000:] + result.stderr[-2000:])
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        inventory, playbook = write_inputs(Path(directory), args.hosts, args.tasks)
        print(f"{args.tasks} asserts x {args.hosts} hosts, CPU seconds (user + system):")
        for preload in (False, True):
            figures = [
                cpu_seconds(inventory, playbook, preload, directory) for _ in range(args.runs)
            ]
            label = "with onebox_preload   " if preload else "without onebox_preload"
            print(f"  {label}: median {statistics.median(figures):6.2f}  "
                  f"({', '.join(f'{figure:.2f}' for figure in figures)})")  # fmt: skip


if __name__ == "__main__":
    main()
