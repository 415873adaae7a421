"""Shared helpers for the repository's Python tests (not the app's, not molecule's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# make unit runs the test files on two pytest-xdist workers. The playbooks they run share
# ansible.cfg's jsonfile fact cache, which one process writes while another reads: each worker
# keeps its own.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER or "ANSIBLE_CACHE_PLUGIN_CONNECTION" not in os.environ:
    os.environ["ANSIBLE_CACHE_PLUGIN_CONNECTION"] = str(
        REPO / ".cache" / f"facts-{WORKER or 'tests'}"
    )


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def run_playbook(playbook: Path, *args: str, extra_vars: dict | None = None):
    """Run ansible-playbook from the repository root with its ansible.cfg; return the result."""
    import json

    cmd = [str(BIN / "ansible-playbook"), str(playbook), *args]
    if extra_vars is not None:
        cmd += ["-e", json.dumps(extra_vars)]
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
