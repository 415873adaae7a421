"""playbooks/logs.yml and playbooks/run.yml refuse bad input by name before they touch a
cluster: each runs for real on this machine (tests/inventory/local.yml, the sandbox's settings),
where there is no cluster, so a run that got past its checks fails at its first cluster read."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from conftest import REPO, run_playbook
from test_preflight import SANDBOX_SETTINGS

READER = yaml.safe_load((REPO / "app/profile.yml").read_text())["onebox_app"]
GUESTBOOK = yaml.safe_load((REPO / "examples/guestbook/profile.yml").read_text())["onebox_app"]
# No sudo here; a fixed RAM so the memory budget's verdict does not depend on this machine.
LOCAL = {"ansible_become": False, "memory_budget_ram_mib": 4096}
# The first task that reads the cluster in each playbook: reached only after every check passed.
FIRST_CLUSTER_TASK = {
    "logs.yml": "TASK [Find the pods of",
    "run.yml": "TASK [app : Read the web Deployment",
}


def with_run_memory(quantity: str) -> dict:
    profile = copy.deepcopy(READER)
    profile["run_memory"] = quantity
    return profile


# name -> (playbook, extra vars); all run at once (each is a few seconds of mostly waiting).
CASES = {
    "empty cmd": ("run.yml", {"cmd": "   "}),
    "no cmd": ("run.yml", {}),
    "good cmd": ("run.yml", {"cmd": "python manage.py check", "app_kube_apply": True}),
    "run pod over the budget": (
        "run.yml",
        {"cmd": "true", "app_kube_apply": True, "onebox_app": with_run_memory("2Gi")},
    ),
    "run pod too small": (
        "run.yml",
        {"cmd": "true", "app_kube_apply": True, "onebox_app": with_run_memory("16Mi")},
    ),
    "unknown logs_of": ("logs.yml", {"logs_of": "worker"}),
    "bad logs_since": ("logs.yml", {"logs_of": "postgres", "logs_since": "2 hours"}),
    "a worker's logs": ("logs.yml", {"logs_of": "worker", "onebox_app": GUESTBOOK}),
}


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[int, str]]:
    def run(case: str) -> tuple[int, str]:
        playbook, extra = CASES[case]
        result = run_playbook(
            REPO / "playbooks" / playbook,
            "-i",
            str(REPO / "tests/inventory/local.yml"),
            *SANDBOX_SETTINGS,
            extra_vars={**LOCAL, **extra},
        )
        return result.returncode, result.stdout + result.stderr

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CASES, pool.map(run, CASES), strict=True))


def refused_before_the_cluster(runs, case: str) -> str:
    returncode, output = runs[case]
    assert returncode != 0, output
    assert FIRST_CLUSTER_TASK[CASES[case][0]] not in output, output
    return output


@pytest.mark.parametrize("case", ["empty cmd", "no cmd"])
def test_run_refuses_an_empty_command_by_name(runs, case):
    output = refused_before_the_cluster(runs, case)
    assert 'app_run_command (playbooks/run.yml: -e cmd="...") must say what to run' in output


def test_run_refuses_a_pod_the_memory_budget_has_no_room_for(runs):
    output = refused_before_the_cluster(runs, "run pod over the budget")
    assert "The memory plan does not fit" in output
    assert "onebox_app.run_memory (2048 MiB)" in output


def test_run_refuses_a_pod_memory_below_the_floor(runs):
    output = refused_before_the_cluster(runs, "run pod too small")
    assert "onebox_app.run_memory, the memory of playbooks/run.yml's one-off pod" in output
    assert "got '16Mi'" in output


def test_run_with_good_input_passes_its_checks_and_goes_to_the_cluster(runs):
    returncode, output = runs["good cmd"]
    assert returncode != 0  # no cluster here
    assert FIRST_CLUSTER_TASK["run.yml"] in output, output
    assert "The memory plan fits" in output
    # The budget it checked counts the one-off pod.
    assert "app one-off pod" in output and "onebox_app.release_memory" in output


def test_logs_refuses_an_unknown_name_listing_the_valid_ones(runs):
    output = refused_before_the_cluster(runs, "unknown logs_of")
    # The reader has no worker; Redis is not offered to an app that does not use it.
    assert "logs_of must be one of web, postgres (" in output
    assert "got 'worker'" in output


def test_logs_refuses_a_duration_it_cannot_read(runs):
    output = refused_before_the_cluster(runs, "bad logs_since")
    assert "logs_since empty or a number with s, m, h or d, e.g. 2h (got '2 hours')" in output


def test_logs_accepts_a_process_of_the_profile(runs):
    returncode, output = runs["a worker's logs"]
    assert returncode != 0  # no cluster here
    assert "TASK [Find the pods of worker]" in output, output
