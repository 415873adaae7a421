"""Issue 12 on the guestbook: web enqueues, the worker runs the job, web shows the result; a
worker stopped in the middle of a job loses nothing. Prints the PSS of web, worker and Redis.
"""

import json
import re
import time
import urllib.parse

import pytest
from profile_stack import GUESTBOOK, HOST, REDIS_PASSWORD, http, sh, wait_for

MESSAGE = "the quick brown fox jumps over the lazy dog"  # 9 words


@pytest.fixture
def guestbook(stacks):
    stack = stacks(GUESTBOOK)
    yield stack
    # Each test leaves one worker of the profile's own command running, at normal speed.
    if sh("docker", "inspect", "--format", "{{.State.Running}}", f"{stack.prefix}-worker",
          check=False) != "true":  # fmt: skip
        stack.remove_process("worker")
        stack.run_process("worker")


def sign(stack, message: str = MESSAGE) -> int:
    """POST the form as a browser would through the ingress: CSRF cookie and token, Origin."""
    status, headers, page = stack.get("/")
    assert status == 200, page[:300]
    cookie = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "name": "test", "message": message}
    ).encode()
    headers = {
        **stack.ingress_headers(),
        "Cookie": f"csrftoken={cookie}",
        "Origin": f"https://{HOST}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, response_headers, data = http("POST", stack.url + "/", body, headers)
    assert status == 303, data[:300]
    return int(response_headers["X-Entry-Id"])


def words(stack, entry_id: int):
    status, _, data = stack.get(f"/entries/{entry_id}.json")
    assert status == 200, data[:300]
    return json.loads(data)["words"]


def redis(stack, *command: str) -> str:
    return sh("docker", "exec", f"{stack.prefix}-redis", "redis-cli", "--no-auth-warning",
              "-a", REDIS_PASSWORD, *command)  # fmt: skip


def queued(stack) -> tuple[int, int]:
    """(jobs waiting, jobs taken by a worker and not finished)."""
    return int(redis(stack, "LLEN", "guestbook:jobs")), int(
        redis(stack, "LLEN", "guestbook:processing")
    )


def slow_worker(stack, seconds: float) -> str:
    """Replace the worker by one whose jobs take `seconds` (a test-only setting)."""
    stack.remove_process("worker")
    return stack.run_process("worker", {"GUESTBOOK_JOB_SECONDS": str(seconds)})


def print_pss(stack, when: str) -> None:
    figures = {name: stack.pss_bytes(f"{stack.prefix}-{name}") / 2**20
               for name in ("web", "worker", "redis")}  # fmt: skip
    print(f"\nPSS {when}: " + ", ".join(f"{k} {v:.1f} MiB" for k, v in figures.items()))


def test_round_trip_request_job_result(guestbook):
    started = time.monotonic()
    entry_id = sign(guestbook)
    assert words(guestbook, entry_id) in (None, 9)  # the request did not wait for the job
    wait_for(lambda: words(guestbook, entry_id) == 9, "the worker's word count", 30)
    print(f"\nround trip request -> job -> result: {time.monotonic() - started:.2f} s")
    assert "9 words" in guestbook.get("/")[2].decode()
    assert queued(guestbook) == (0, 0)
    liveness = guestbook.profile["processes"]["worker"]["liveness"]
    assert guestbook.probe(liveness, f"{guestbook.prefix}-worker")
    print_pss(guestbook, "after the round trip")


def test_sigterm_mid_job_finishes_it_and_leaves_the_next(guestbook):
    worker = slow_worker(guestbook, 5)
    first, second = sign(guestbook), sign(guestbook, "two words")
    wait_for(lambda: queued(guestbook) == (1, 1), "the worker to take the first job", 30)
    print_pss(guestbook, "with a job running")
    took = guestbook.stop_process("worker")  # SIGTERM, SIGKILL after the grace period
    assert sh("docker", "inspect", "--format", "{{.State.ExitCode}}", worker) == "0"
    assert words(guestbook, first) == 9  # finished before the worker exited
    assert words(guestbook, second) is None  # not started: still queued
    assert queued(guestbook) == (1, 0)
    print(f"\nSIGTERM mid-job: the worker finished the job and exited in {took:.1f} s")

    guestbook.remove_process("worker")
    guestbook.run_process("worker")
    wait_for(lambda: words(guestbook, second) == 2, "a new worker to run the queued job", 30)
    assert queued(guestbook) == (0, 0)


def test_sigkill_mid_job_puts_it_back(guestbook):
    """What SIGTERM cannot cover (the OOM killer, a grace period run out): the job stays in
    the processing list and the next worker puts it back."""
    worker = slow_worker(guestbook, 60)
    entry_id = sign(guestbook)
    wait_for(lambda: queued(guestbook) == (0, 1), "the worker to take the job", 30)
    sh("docker", "kill", "--signal", "KILL", worker)
    assert words(guestbook, entry_id) is None
    assert queued(guestbook) == (0, 1)

    guestbook.remove_process("worker")
    guestbook.run_process("worker")
    wait_for(lambda: words(guestbook, entry_id) == 9, "the restarted worker to redo the job", 30)
    assert queued(guestbook) == (0, 0)
    assert "1 job(s) of a stopped worker put back" in guestbook.logs(f"{guestbook.prefix}-worker")
