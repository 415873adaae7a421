"""Every shipped profile runs from its own data: release, readiness, liveness, a request.

Part of `make app-test`. Builds each profile's image once (minutes); needs Docker and the
harness, and fails (never skips) without them.
"""

import pytest
from profile_stack import GUESTBOOK, READER, REPO, sh

PROFILES = [READER, GUESTBOOK]


def _id(path):
    return str(path.relative_to(REPO))


@pytest.fixture(params=PROFILES, ids=_id)
def stack(request, stacks):
    return stacks(request.param)


def test_release_ran_in_order(stack):
    expected = [step["name"] for step in stack.profile.get("release") or []]
    assert [name for name, _ in stack.release_log] == expected
    print(f"\n{stack.profile['name']}: release " + ", ".join(
        f"{name} {seconds:.1f} s" for name, seconds in stack.release_log
    ) + f"; cold start to ready {stack.cold_start_seconds:.2f} s")  # fmt: skip


def test_ready_and_live_as_the_kubelet_probes(stack):
    health = stack.profile["health"]
    assert stack.probe(health["readiness"])
    assert stack.probe(health["liveness"])


def test_a_request_through_the_ingress_is_answered(stack):
    status, _, body = stack.get("/")
    # A page or a redirect to a login: the app answered, not the host check or an error.
    assert 200 <= status < 400, body[:500]


def test_runs_as_the_profile_user_on_its_filesystem(stack):
    user = stack.profile["user"]
    assert sh("docker", "exec", stack.web, "id", "-u") == str(user["uid"])
    assert sh("docker", "exec", stack.web, "id", "-g") == str(user["gid"])
    read_only = sh("docker", "inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", stack.web)
    assert read_only == str(bool(stack.profile.get("read_only_root_filesystem"))).lower()
    for volume in stack.profile.get("writable_paths") or []:
        sh("docker", "exec", stack.web, "touch", f"{volume['path']}/onebox-write-test")


def test_not_ready_without_the_database(stack):
    """Readiness needs the database and liveness does not: with PostgreSQL stopped the pod
    leaves the Service but is not restarted; with it back the pod is ready again."""
    db = f"{stack.prefix}-db"
    health = stack.profile["health"]
    sh("docker", "stop", db)
    try:
        assert not stack.probe(health["readiness"])
        assert stack.probe(health["liveness"])
    finally:
        sh("docker", "start", db)
    stack.wait_db()
    stack.wait_ready(60)
