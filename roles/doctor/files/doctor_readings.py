#!/usr/bin/env python3
"""Raw readings of a onebox host for the doctor, printed as one JSON document.

Read-only: it reads /proc, statvfs, the journal and the backup directory's listing, and runs
commands that only report (snap list/info, systemctl show, kubectl get/top, openssl s_client,
onebox-offsite latest). It writes nothing. The judging is done on the controller
(plugins/filter/doctor.py), so this script keeps every output as the command printed it.

Usage: doctor_readings.py CONFIG_JSON   (keys: see CONFIG below; Python 3 standard library only)
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time

CONFIG = {
    "disks": ["/", "/var/snap"],
    "backup_dir": "/var/backups/onebox",
    "namespace": "onebox",
    "microk8s": "/snap/bin/microk8s",
    "snap": "/usr/bin/snap",
    "offsite": "/usr/local/sbin/onebox-offsite",
    "tls_host": "",
    "tls_connect": "",
    "timeout": 30,
}


def run(argv: list[str], timeout: float, stdin: str | None = None) -> dict:
    if shutil.which(argv[0]) is None and not os.access(argv[0], os.X_OK):
        return {"missing": True, "command": argv[0]}
    try:
        done = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"rc": 124, "stdout": "", "stderr": f"timed out after {timeout} s"}
    return {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def disk(path: str) -> dict:
    # A path that does not exist yet (/var/snap before MicroK8s) is measured on the nearest
    # directory above it: that is where its files would go.
    measured = path
    while not os.path.exists(measured):
        measured = os.path.dirname(measured) or "/"
    stat = os.statvfs(measured)
    # f_bavail: what an unprivileged writer (the postgres image's uid 999) can still use.
    return {
        "path": path,
        "measured": measured,
        "total": stat.f_blocks * stat.f_frsize,
        "free": stat.f_bavail * stat.f_frsize,
    }


def backups(directory: str) -> dict:
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return {"dir": directory, "exists": False, "files": []}
    files = [
        {"name": e.name, "mtime": e.stat().st_mtime, "size": e.stat().st_size}
        for e in entries
        if e.is_file() and e.name.endswith(".dump")
    ]
    return {"dir": directory, "exists": True, "files": files}


def microk8s(config: dict) -> dict:
    binary, timeout = config["microk8s"], config["timeout"]
    if not os.access(binary, os.X_OK):
        return {"installed": False}
    kubectl = [binary, "kubectl"]
    namespace = ["--namespace", config["namespace"]]
    return {
        "installed": True,
        "snap_list": run([config["snap"], "list", "microk8s"], timeout),
        # Asks the store: the revision the pinned channel publishes now.
        "snap_info": run([config["snap"], "info", "microk8s"], timeout),
        "kubelite": run(
            [
                "systemctl",
                "show",
                "--property=NRestarts,ActiveState,ActiveEnterTimestamp",
                "snap.microk8s.daemon-kubelite",
            ],
            timeout,
        ),
        "nodes": run([*kubectl, "get", "nodes", "--output=json"], timeout),
        "pods": run([*kubectl, "get", "pods", "--all-namespaces", "--output=json"], timeout),
        "certificates": run(
            [*kubectl, "get", "certificates.cert-manager.io", *namespace, "--output=json"],
            timeout,
        ),
        "top": run([*kubectl, "top", "pods", *namespace], timeout),
    }


def primary_address() -> str:
    """The address this host sends from by default (no packet is sent: UDP connect only picks
    the route). The ingress' host ports answer there; 127.0.0.1 may not reach a hostPort."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routed by the default route, unused
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def tls(config: dict) -> dict:
    if not config["tls_host"]:
        return {"skipped": True}
    timeout = config["timeout"]
    connect = config["tls_connect"] or f"{primary_address()}:443"
    # The certificate the ingress serves for the public name (SNI), asked on this host so a
    # firewall or DNS in between does not hide it.
    hello = run(
        [
            "openssl",
            "s_client",
            "-connect",
            connect,
            "-servername",
            config["tls_host"],
        ],
        timeout,
        stdin="",
    )
    result = {"host": config["tls_host"], "connect": connect}
    if hello.get("missing") or "-----BEGIN CERTIFICATE-----" not in hello.get("stdout", ""):
        return {**result, **hello, "rc": hello.get("rc", 1) or 1}
    dates = run(["openssl", "x509", "-noout", "-enddate", "-subject"], timeout, hello["stdout"])
    return {**result, **dates}


def main() -> None:
    config = {**CONFIG, **(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})}
    earlyoom_installed = (
        run(["systemctl", "cat", "earlyoom.service"], config["timeout"]).get("rc") == 0
    )
    readings = {
        "time": time.time(),
        "meminfo": read("/proc/meminfo"),
        "psi_memory": read("/proc/pressure/memory"),
        "earlyoom": {
            "installed": earlyoom_installed,
            "journal": run(
                ["journalctl", "--unit=earlyoom", "--since=-24h", "--output=cat", "--no-pager"],
                config["timeout"],
            ).get("stdout", "")
            if earlyoom_installed
            else "",
        },
        "disks": [disk(path) for path in [*config["disks"], config["backup_dir"]]],
        "backups": backups(config["backup_dir"]),
        "offsite": run([config["offsite"], "latest"], config["timeout"]),
        "microk8s": microk8s(config),
        "tls": tls(config),
    }
    json.dump(readings, sys.stdout)


if __name__ == "__main__":
    main()
