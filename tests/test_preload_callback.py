"""plugins/callback/onebox_preload.py: filter plugins are loaded once, in the main process,
and every per-task worker uses them; without it each worker loads them again."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import REPO, run_playbook

# A filter plugin that writes the loading process's id to a file each time its file is loaded.
COUNTING_FILTER = """
import os

with open(os.environ["ONEBOX_TEST_LOAD_LOG"], "a") as log:
    log.write(f"{os.getpid()}\\n")


class FilterModule:
    def filters(self):
        return {"onebox_test_twice": lambda value: value * 2}
"""


def loads(tmp_path: Path, callback_dir: Path) -> list[str]:
    """Run three tasks on two hosts that use the filter; the ids of the processes that loaded it."""
    filters = tmp_path / "filter_plugins"
    filters.mkdir(exist_ok=True)
    (filters / "counting.py").write_text(COUNTING_FILTER)
    log = tmp_path / f"loads-{callback_dir.name}.log"
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {"all": {"vars": {"ansible_connection": "local"}, "hosts": {"a": {}, "b": {}}}}
        )
    )
    task = {"ansible.builtin.assert": {"that": ["2 | onebox_test_twice == 4"], "quiet": True}}
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        yaml.safe_dump([{"hosts": "all", "gather_facts": False, "tasks": [task, task, task]}])
    )
    env = {
        "ANSIBLE_FILTER_PLUGINS": str(filters),
        "ANSIBLE_CALLBACK_PLUGINS": str(callback_dir),
        "ONEBOX_TEST_LOAD_LOG": str(log),
    }
    result = run_playbook(playbook, "-i", str(inventory), env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return log.read_text().split()


def test_filters_are_loaded_once_in_the_main_process(tmp_path):
    pids = loads(tmp_path, REPO / "plugins/callback")
    assert len(pids) == 1, pids


def test_without_the_callback_every_worker_loads_them_again(tmp_path):
    """The reason for the callback, shown on this Ansible: six workers, six loads."""
    empty = tmp_path / "no-callbacks"
    empty.mkdir()
    pids = loads(tmp_path, empty)
    assert len(set(pids)) == 6, pids
