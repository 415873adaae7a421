"""Shared helpers for the repository's Python tests (not the app's, not molecule's)."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# A guard against a hung run, not a measure of speed: in `make test` a render of about 30 CPU
# seconds took 217 s of wall time beside the other suites on two cores (process accounting).
PLAYBOOK_TIMEOUT = 900

# make unit runs the test files on two pytest-xdist workers. The playbooks they run share
# ansible.cfg's jsonfile fact cache, which one process writes while another reads: each worker
# keeps its own.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER or "ANSIBLE_CACHE_PLUGIN_CONNECTION" not in os.environ:
    os.environ["ANSIBLE_CACHE_PLUGIN_CONNECTION"] = str(
        REPO / ".cache" / f"facts-{WORKER or 'tests'}"
    )


@functools.cache
def filter_plugin(name: str):
    """The module plugins/filter/<name>.py, loaded once (Ansible loads plugins by path, not as a
    package, so a plain import would not find it)."""
    spec = importlib.util.spec_from_file_location(
        f"onebox_filter_{name}", REPO / "plugins/filter" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inventory_facts(env: str, profile: Path | None = None) -> dict:
    """The variables a run against inventories/<env> sees at the top level, as written (not
    templated): the shared facts (playbooks/group_vars/all/), the inventory's own group_vars
    over them, and a profile file over both (as -e @file; None: the shipped reader's)."""
    facts: dict = {}
    for path in sorted((REPO / "playbooks/group_vars/all").glob("*.yml")):
        facts.update(yaml.safe_load(path.read_text()) or {})
    for path in sorted((REPO / f"inventories/{env}/group_vars").rglob("*.yml")):
        facts.update(yaml.safe_load(path.read_text()) or {})
    if profile is not None:
        facts.update(yaml.safe_load(profile.read_text()))
    return facts


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def playbook_runner():
    """run_playbook, for tests under tests/container: their own conftest takes the module name
    `conftest` there, so they cannot import this one's helpers."""
    return run_playbook


def run_playbook(
    playbook: Path, *args: str, extra_vars: dict | None = None, env: dict | None = None
):
    """Run ansible-playbook from the repository root with its ansible.cfg; return the result.
    env: variables set over the process's own (an Ansible setting, a plugin path)."""
    cmd = [str(BIN / "ansible-playbook"), str(playbook), *args]
    if extra_vars is not None:
        cmd += ["-e", json.dumps(extra_vars)]
    run_env = dict(
        os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", **(env or {})
    )
    return subprocess.run(
        cmd, cwd=REPO, env=run_env, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT
    )


def case_outcomes(
    playbook: Path,
    inventory: dict,
    workdir: Path,
    *,
    forks: int = 10,
    timeout: int = 600,
    facts_from: str | None = None,
) -> dict[str, dict]:
    """Run a playbook once over an inventory whose hosts are test cases (each host's variables
    are its inputs); for each host: {"failed": bool, "messages": [every msg it printed]}.

    facts_from: a host whose facts are gathered once and copied to every other host before the
    run. The cases are all this machine, and the playbook gathers only where the fact cache
    (ansible.cfg: smart gathering, jsonfile) has nothing: gathering ~150 hosts cost minutes.
    """
    path = workdir / "cases.yml"
    path.write_text(yaml.safe_dump(inventory))
    cache = workdir / "facts"
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_CACHE_PLUGIN_CONNECTION=str(cache),
    )
    hosts = sorted(_hosts(inventory["all"]))
    if facts_from is not None:
        gather = workdir / "gather.yml"
        # On this machine, as every case runs (the case playbooks connect locally).
        gather.write_text(
            f"- hosts: {facts_from}\n  connection: local\n  gather_facts: true\n"
            "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
            "  tasks: []\n"
        )
        result = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(path), str(gather)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT,
            check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        # The cache names its file after the host, behind a prefix of its own.
        (gathered,) = [file for file in cache.iterdir() if file.name.endswith(facts_from)]
        prefix = gathered.name[: -len(facts_from)]
        for host in hosts:
            if host != facts_from:
                shutil.copyfile(gathered, cache / (prefix + host))
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(path), str(playbook)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.stdout.startswith("{"), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    found = {host: {"failed": False, "messages": []} for host in hosts}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, outcome in task["hosts"].items():
                found[host]["messages"].append(str(outcome.get("msg", "")))
                for item in outcome.get("results", []):
                    found[host]["messages"].append(str(item.get("msg", "")))
                found[host]["failed"] |= bool(outcome.get("failed"))
    for host, stats in report["stats"].items():
        found[host]["failed"] |= stats["failures"] > 0 or stats["unreachable"] > 0
    return found


def _hosts(group: dict) -> set[str]:
    """The host names of an inventory group in YAML form, its children's included."""
    found = set(group.get("hosts") or {})
    for child in (group.get("children") or {}).values():
        found |= _hosts(child or {})
    return found
