#!/usr/bin/env python3
"""The onebox test harness: a Docker engine and locally built Debian images.

Used by every molecule scenario (through molecule/shared/create.yml), by the sandbox and by
the app's container tests. Standard library only, so it runs before the virtualenv exists.

    harness.py host-packages   install the Debian packages the tests need, if missing
    harness.py engine          ensure a Docker engine answers (install/start it if needed)
    harness.py image systemd   build once and print the tag of the systemd "VM" image
    harness.py image python    build once and print the tag of the plain Python base image
    harness.py swapoff DIR     turn off any swap file under DIR (a container's host directory)

Images cannot be pulled here, so they are made with debootstrap and `docker import`. The tag
carries a hash of the recipe (this file's recipe section and the CA bundle), so a changed
recipe builds a new image and an unchanged one is reused.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# --- recipe -------------------------------------------------------------------------------
SUITE = "bookworm"
# The host's CA bundle: pip inside the images must trust it to reach the package index.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Kept under our own name: installing Debian's ca-certificates later would rewrite the
# standard bundle, and pip would lose the host's CA.
IMAGE_CA_PATH = "/usr/local/share/onebox/host-ca-bundle.crt"

# What a Debian cloud VM image has that debootstrap's minbase lacks.
SYSTEMD_PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "procps",
    "openssh-server",
    "sudo",
    "python3",
    "python3-apt",
    "iproute2",
    "iputils-ping",
    "kmod",
    "less",
    "curl",
    "gnupg",
    "cron",
    "logrotate",
]
PYTHON_PACKAGES = ["python3", "python3-venv", "python3-pip", "python-is-python3"]

IMAGES = {
    "systemd": {
        "repository": "onebox/debian-systemd",
        "packages": SYSTEMD_PACKAGES,
        "changes": [
            "ENV container=docker",
            'CMD ["/lib/systemd/systemd"]',
        ],
    },
    "python": {
        "repository": "onebox/debian-python",
        "packages": PYTHON_PACKAGES,
        "changes": ["ENV PYTHONUNBUFFERED=1", 'CMD ["python3"]'],
    },
}
RECIPE_VERSION = 2  # bump to force a rebuild when the steps below change meaning
# -------------------------------------------------------------------------------------------

# What the controller needs from apt to run the tests: the venv module (Debian splits it out
# of python3), debootstrap for the images, PostgreSQL and chromium + chromium-driver (browser
# tests) for the app's tests, with a CJK font so that its screenshots show Chinese, not boxes.
HOST_PACKAGES = [
    "python3-venv",
    "debootstrap",
    "postgresql",
    "chromium",
    "chromium-driver",
    "fonts-wqy-microhei",
]

DOCKER_SOCKET = Path("/var/run/docker.sock")
STATE_DIR = Path(os.environ.get("ONEBOX_HARNESS_DIR", "/var/tmp/onebox-harness"))
ENGINE_WAIT_SECONDS = 60


def log(message: str) -> None:
    print(f"harness: {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
    )
    return result.returncode == 0


def apt_install(packages: list[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)


def missing_packages(packages: list[str]) -> list[str]:
    missing = []
    for package in packages:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Status}", package],
            capture_output=True,
            text=True,
        )
        if result.stdout != "installed":
            missing.append(package)
    return missing


def ensure_host_packages() -> None:
    missing = missing_packages(HOST_PACKAGES)
    if missing:
        log(f"installing {' '.join(missing)}")
        apt_install(missing)


def ensure_engine() -> None:
    """Leave a running engine alone; otherwise install Debian's docker.io and start it."""
    if engine_answers():
        return
    if shutil.which("dockerd") is None:
        log("no Docker engine here: installing Debian's docker.io")
        apt_install(["docker.io"])
        if engine_answers():  # the package's own service may have started it
            return
    if Path("/run/systemd/system").is_dir():
        log("starting docker with systemd")
        run(["systemctl", "start", "docker"])
    else:
        # No init system to ask (a CI sandbox): start the daemon detached, logging to a file.
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        log_path = STATE_DIR / "dockerd.log"
        log(f"starting dockerd in the background (log: {log_path})")
        with open(log_path, "ab") as log_file:
            subprocess.Popen(
                ["dockerd"],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
    deadline = time.monotonic() + ENGINE_WAIT_SECONDS
    while time.monotonic() < deadline:
        if DOCKER_SOCKET.exists() and engine_answers():
            return
        time.sleep(1)
    sys.exit(f"harness: dockerd did not answer within {ENGINE_WAIT_SECONDS}s; see its log")


def recipe_hash(kind: str) -> str:
    digest = hashlib.sha256()
    spec = IMAGES[kind]
    digest.update(json.dumps([RECIPE_VERSION, SUITE, spec], sort_keys=True).encode())
    digest.update(HOST_CA_BUNDLE.read_bytes() if HOST_CA_BUNDLE.exists() else b"no-ca")
    return digest.hexdigest()[:12]


def image_exists(tag: str) -> bool:
    result = subprocess.run(["docker", "image", "inspect", tag], capture_output=True)
    return result.returncode == 0


def prepare_rootfs(rootfs: Path, kind: str) -> None:
    """Finish a debootstrap tree: CA for pip, and a systemd that runs well in a container."""
    ca_target = rootfs / IMAGE_CA_PATH.lstrip("/")
    ca_target.parent.mkdir(parents=True, exist_ok=True)
    if HOST_CA_BUNDLE.exists():
        shutil.copyfile(HOST_CA_BUNDLE, ca_target)
        (rootfs / "etc/pip.conf").write_text(f"[global]\ncert = {IMAGE_CA_PATH}\n")
    # apt keeps no package cache in the image; lists are fetched by the roles under test.
    shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
    (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
    lists_dir = rootfs / "var/lib/apt/lists"
    for lists in lists_dir.glob("*_dists_*"):
        lists.unlink()
    # apt's freshness check reads this directory's mtime: mark the lists as never updated.
    os.utime(lists_dir, (0, 0))
    if kind == "systemd":
        # A fresh machine-id per container, as on a first boot of a cloud image.
        (rootfs / "etc/machine-id").write_text("")
        # Units that only make sense on real hardware fail in a container; mask them.
        for unit in ("getty.target", "systemd-udevd.service", "systemd-modules-load.service"):
            link = rootfs / "etc/systemd/system" / unit
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to("/dev/null")


def build_image(kind: str) -> str:
    spec = IMAGES[kind]
    tag = f"{spec['repository']}:{recipe_hash(kind)}"
    if image_exists(tag):
        return tag
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    # One build at a time: several scenarios may ask for the same image at once.
    with open(STATE_DIR / f"build-{kind}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image_exists(tag):
            return tag
        if shutil.which("debootstrap") is None:
            log("installing debootstrap")
            apt_install(["debootstrap"])
        with tempfile.TemporaryDirectory(dir=STATE_DIR, prefix=f"rootfs-{kind}-") as tmp:
            rootfs = Path(tmp) / "rootfs"
            log(f"debootstrap {SUITE} for {tag} (a few minutes, once)")
            run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(spec['packages'])}",
                    SUITE,
                    str(rootfs),
                ],
                stdout=subprocess.DEVNULL,
            )
            prepare_rootfs(rootfs, kind)
            changes = [arg for change in spec["changes"] for arg in ("--change", change)]
            tar = subprocess.Popen(
                ["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."],
                stdout=subprocess.PIPE,
            )
            run(
                ["docker", "import", *changes, "-", tag],
                stdin=tar.stdout,
                stdout=subprocess.DEVNULL,
            )
            if tar.wait() != 0:
                sys.exit(f"harness: packing the root filesystem for {tag} failed")
        log(f"built {tag}")
    return tag


def swapoff_under(directory: str) -> None:
    """Swap is the kernel's, not the container's: turn off what a test left on a host dir.

    /proc/swaps names a container's swap file by its path inside the container, so it cannot
    tell which host directory holds it: every file under the directory is offered to swapoff,
    which refuses the ones that are not active swap.
    """
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            if subprocess.run(["swapoff", path], capture_output=True).returncode == 0:
                print(f"swapoff {path}")


def main(argv: list[str]) -> int:
    if argv == ["host-packages"]:
        ensure_host_packages()
        return 0
    if argv == ["engine"]:
        ensure_engine()
        return 0
    if len(argv) == 2 and argv[0] == "image" and argv[1] in IMAGES:
        ensure_engine()
        print(build_image(argv[1]))
        return 0
    if len(argv) == 2 and argv[0] == "swapoff":
        swapoff_under(argv[1])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
