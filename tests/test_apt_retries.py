"""Every apt task of a role survives what a fresh VM and a busy mirror do for a moment: another
apt run holding the lock longer than the module's lock_timeout (unattended-upgrades on first
boot), and a download or list refresh that fails once. A task that fetches (installs, or
refreshes the lists) is retried on any failure; one that only removes, at least on the lock."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import REPO

APT = "ansible.builtin.apt"
TASK_FILES = sorted(REPO.glob("roles/*/tasks/*.yml"))


def apt_tasks(tasks: list) -> list[dict]:
    found = []
    for task in tasks or []:
        for key in ("block", "rescue", "always"):
            found += apt_tasks(task.get(key))
        if APT in task:
            found.append(task)
    return found


def fetches(task: dict) -> bool:
    args = task[APT]
    return bool(args.get("update_cache")) or args.get("state", "present") in ("present", "latest")


ALL = [
    pytest.param(task, id=f"{path.relative_to(REPO)}:{task['name']}")
    for path in TASK_FILES
    for task in apt_tasks(yaml.safe_load(path.read_text()))
]


def test_the_roles_have_apt_tasks():
    # The check below must see the tasks it is about (a moved file would leave it nothing).
    assert len(ALL) >= 8


@pytest.mark.parametrize("task", ALL)
def test_apt_tasks_are_retried(task):
    register = task.get("register")
    assert register, "register the result, for `until`"
    until = str(task.get("until", ""))
    assert task.get("retries", 0) >= 3 and task.get("delay", 0) >= 5, "retries: >= 3, delay: >= 5"
    if fetches(task):
        assert re.fullmatch(rf"{register} is succeeded", until.strip()), (
            f"a task that fetches retries on any failure: until: {register} is succeeded"
        )
    else:
        assert until.startswith(f"{register} is succeeded"), until
