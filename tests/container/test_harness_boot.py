"""The harness's wait for a container's boot (molecule/harness/wait_for_boot.yml), against a
systemd that starts late: under load, `docker exec` can come before systemd has set up
/run/systemd, and `systemctl is-system-running --wait` then answers at once ("offline", or
"Failed to connect to bus") instead of waiting. The likely cause of a molecule create that
failed in CI: its container had started, and only this wait and a mount came after that."""

import textwrap

from profile_stack import HARNESS, REPO, sh

CONTAINER = "onebox-test-slow-boot"
# Long enough that the wait's first attempt falls before systemd starts, whatever the load.
SYSTEMD_DELAY_SECONDS = 10


def test_the_boot_wait_outlasts_a_systemd_that_starts_late(tmp_path, playbook_runner):
    image = sh("python3", str(HARNESS), "image", "systemd")
    sh("docker", "rm", "-f", CONTAINER)
    # The harness's container settings (start_container.yml), with systemd started late but
    # still as PID 1 (exec).
    sh(
        "docker", "run", "--detach", "--name", CONTAINER,
        "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
        "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
        "--cgroupns", "host", "--volume", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
        "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
        image, "sh", "-c", f"sleep {SYSTEMD_DELAY_SECONDS}; exec /lib/systemd/systemd",
    )  # fmt: skip
    try:
        playbook = tmp_path / "wait.yml"
        playbook.write_text(
            textwrap.dedent(f"""\
                - hosts: localhost
                  connection: local
                  gather_facts: false
                  tasks:
                    - ansible.builtin.include_tasks: {REPO}/molecule/harness/wait_for_boot.yml
                      vars:
                        harness_container: {CONTAINER}
                """)
        )
        result = playbook_runner(playbook)
        assert result.returncode == 0, result.stdout + result.stderr
        state = sh("docker", "exec", CONTAINER, "systemctl", "is-system-running", check=False)
        assert state in ("running", "degraded")
    finally:
        sh("docker", "rm", "-f", CONTAINER)
