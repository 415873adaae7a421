"""`snap`: list, info, install (store or acked file), refresh (--hold/--unhold/--channel),
get/set system, alias, restart, remove. snapd's own behaviour, as the role sees it."""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

from common import (
    AGENT_PORT,
    AGENT_UNIT,
    RISKS,
    SELF,
    SNAP_BIN,
    SNAP_DATA_ROOT,
    SNAPD_VERSION_FILE,
    STOCK_KUBELET_ARGS,
    SYSTEM,
    TRACKS,
    State,
    data_dir,
    fail,
    fresh_state,
    node_name,
    option,
    own_ip,
    positional,
    restart_kubelite,
    version_tuple,
)


def snapd_version() -> str:
    if SNAPD_VERSION_FILE.exists():
        return SNAPD_VERSION_FILE.read_text().strip()
    return "2.66.1"


def put_revision(state: dict, channel: str | None, track: str) -> None:
    version, revision = TRACKS[track]
    old = data_dir(state) if state["revision"] else None
    state.update(channel=channel, version=version, revision=revision, installed=True)
    new = data_dir(state)
    if old and old.exists() and old != new:
        # snapd copies $SNAP_DATA of the old revision to the new one on refresh.
        shutil.copytree(old, new, dirs_exist_ok=True)
        shutil.rmtree(old)
    for sub in ("args", "credentials", "certs", "var/lock"):
        (new / sub).mkdir(parents=True, exist_ok=True)
    kubelet = new / "args" / "kubelet"
    if not kubelet.exists():
        kubelet.write_text(STOCK_KUBELET_ARGS)
    current = SNAP_DATA_ROOT / "current"
    if current.is_symlink() or current.exists():
        current.unlink()
    current.symlink_to(str(revision))
    (SNAP_DATA_ROOT / "common").mkdir(parents=True, exist_ok=True)


def install_files(state: dict) -> None:
    """What installing the snap does on the host: commands, group, data, cluster agent.
    A fresh install is a one-node dqlite cluster (ha-cluster on, Calico)."""
    SNAP_BIN.mkdir(parents=True, exist_ok=True)
    link = SNAP_BIN / "microk8s"
    if not link.exists():
        link.symlink_to(SELF)
    state["ha"] = True
    state["addons"] = {"ha-cluster": True}
    state["nodes"] = {node_name(): {"address": own_ip(), "agent": AGENT_PORT, "worker": False}}
    state["kubeconfig_secret"] = secrets.token_hex(16)
    restart_kubelite(state)
    if not SYSTEM:
        return
    subprocess.run(["groupadd", "--system", "-f", "microk8s"], check=True)
    AGENT_UNIT.write_text(
        "[Unit]\nDescription=Stand-in MicroK8s cluster agent (molecule)\n\n"
        f"[Service]\nExecStart=/usr/bin/python3 {SELF} agent\nRestart=always\n\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(
        ["systemctl", "enable", "--now", "snap.microk8s.daemon-cluster-agent.service"],
        check=True,
        capture_output=True,
    )
    for _ in range(50):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", AGENT_PORT)) == 0:
                return
        time.sleep(0.1)


def snap_list(state: dict, argv: list[str]) -> int:
    names = positional(argv)
    if names and names != ["microk8s"] or not state["installed"]:
        target = names[0] if names else "microk8s"
        return fail(f"error: no matching snaps installed: {target!r}" if names else "No snaps.")
    notes = "classic,held" if state["held"] else "classic"
    tracking = state["channel"] or "-"
    print("Name      Version   Rev    Tracking       Publisher   Notes")
    row = f"{state['version']:<9} {state['revision']:<6} {tracking:<14}"
    print(f"microk8s  {row} canonical✓  {notes}")
    return 0


def snap_info(state: dict, argv: list[str]) -> int:
    if positional(argv) != ["microk8s"]:
        return fail("error: no snap found")
    print("name:      microk8s")
    print("summary:   Kubernetes for workstations and appliances")
    print("publisher: Canonical✓")
    if state["installed"]:
        print(f"tracking:     {state['channel'] or '-'}")
        print(f"installed:    {state['version']} ({state['revision']}) 180MB classic")
    print("channels:")
    for track, (version, revision) in sorted(TRACKS.items(), reverse=True):
        for risk in RISKS:
            print(f"  {track}/{risk}:{'':<6} {version} 2026-11-01 ({revision}) 180MB classic")
    return 0


def snap_install(state: dict, argv: list[str]) -> int:
    names = positional(argv, ("channel",))
    if not names:
        return fail("error: the required argument `<snap>` was not provided")
    target = names[0]
    if target.endswith(".snap"):
        path = Path(target)
        if not path.is_file():
            return fail(f'error: cannot open "{target}": no such file')
        if str(path.with_suffix(".assert").resolve()) not in state["acked"]:
            return fail(f'error: cannot find signatures with metadata for snap "{target}"')
        match = re.match(r"microk8s_([0-9]+)\.snap$", path.name)
        revisions = {rev: track for track, (_, rev) in TRACKS.items()}
        if not match or int(match.group(1)) not in revisions:
            return fail(f'error: cannot install "{target}": unknown revision')
        if state["installed"]:
            print("snap \"microk8s\" is already installed, see 'snap help refresh'")
            return 0
        put_revision(state, None, revisions[int(match.group(1))])
        install_files(state)
        print(f"microk8s {state['version']} from Canonical✓ installed")
        return 0
    if target != "microk8s":
        return fail(f'error: snap "{target}" not found')
    if "--classic" not in argv:
        return fail('error: snap "microk8s" was published using classic confinement')
    if state["installed"]:
        print("snap \"microk8s\" is already installed, see 'snap help refresh'")
        return 0
    channel = option(argv, "channel") or "latest/stable"
    track = channel.split("/")[0]
    if track not in TRACKS or channel.split("/")[-1] not in RISKS:
        return fail(f'error: requested channel "{channel}" is not available for snap "microk8s"')
    put_revision(state, channel, track)
    install_files(state)
    print(f"microk8s ({channel}) {state['version']} from Canonical✓ installed")
    return 0


def snap_refresh(state: dict, argv: list[str]) -> int:
    hold = [a for a in argv if a == "--hold" or a.startswith("--hold=")]
    if hold or "--unhold" in argv:
        if version_tuple(snapd_version()) < (2, 58):
            flag = "hold" if hold else "unhold"
            return fail(f"error: unknown flag `{flag}'")
        if positional(argv) != ["microk8s"] or not state["installed"]:
            return fail('error: snap "microk8s" is not installed')
        state["held"] = bool(hold)
        print('General refreshes of "microk8s" held indefinitely' if hold else "Removed hold")
        return 0
    if positional(argv, ("channel",)) != ["microk8s"] or not state["installed"]:
        return fail('error: snap "microk8s" is not installed')
    channel = option(argv, "channel") or state["channel"]
    track = (channel or "").split("/")[0]
    if track not in TRACKS:
        return fail(f'error: requested channel "{channel}" is not available')
    if channel == state["channel"]:
        print('snap "microk8s" has no updates available')
        return 0
    # A refresh swaps the snap and restarts its services; it runs no addon script, so what the
    # old revision's addons deployed stays as it was (nothing in snapd knows about addons).
    put_revision(state, channel, track)
    restart_kubelite(state)
    print(f"microk8s ({channel}) {state['version']} from Canonical✓ refreshed")
    return 0


def snap_remove(state: dict, argv: list[str]) -> int:
    if positional(argv) != ["microk8s"] or not state["installed"]:
        return fail('snap "microk8s" is not installed')
    if SYSTEM:
        subprocess.run(
            ["systemctl", "disable", "--now", "snap.microk8s.daemon-cluster-agent.service"],
            capture_output=True,
        )
        AGENT_UNIT.unlink(missing_ok=True)
    for name in ("microk8s", *state["aliases"]):
        (SNAP_BIN / name).unlink(missing_ok=True)
    if "--purge" in argv:
        shutil.rmtree(SNAP_DATA_ROOT, ignore_errors=True)
    keep = {"system": state["system"], "acked": state["acked"]}
    state.clear()
    state.update(fresh_state(), **keep)
    print("microk8s removed")
    return 0


def main(argv: list[str]) -> int:
    if not argv:
        return fail("The snap command lets you install, configure, refresh and remove snaps.")
    command, rest = argv[0], argv[1:]
    if command == "version":
        version = snapd_version()
        print(f"snap    {version}\nsnapd   {version}\nseries  16\ndebian  12")
        return 0
    if command == "wait":
        return 0
    with State() as state:
        if command == "list":
            return snap_list(state, rest)
        if command == "info":
            return snap_info(state, rest)
        if command == "install":
            return snap_install(state, rest)
        if command == "ack":
            path = Path(rest[0]) if rest else None
            if path is None or not path.is_file():
                return fail("error: cannot read assertion file")
            if str(path.resolve()) not in state["acked"]:
                state["acked"].append(str(path.resolve()))
            return 0
        if command == "refresh":
            return snap_refresh(state, rest)
        if command == "get":
            args = positional(rest)
            if len(args) != 2 or args[0] != "system":
                return fail("error: unsupported by the stand-in")
            if args[1] not in state["system"]:
                return fail(f'error: snap "core" has no "{args[1]}" configuration option')
            print(state["system"][args[1]])
            return 0
        if command == "set":
            args = positional(rest)
            if len(args) < 2 or args[0] != "system":
                return fail("error: unsupported by the stand-in")
            for pair in args[1:]:
                key, _, value = pair.partition("=")
                state["system"][key] = value
            return 0
        if command == "alias":
            if len(rest) != 2 or rest[0] != "microk8s.kubectl" or not state["installed"]:
                return fail("error: cannot alias: not supported by the stand-in")
            link = SNAP_BIN / rest[1]
            if not link.is_symlink():
                link.symlink_to(SELF)
            if rest[1] not in state["aliases"]:
                state["aliases"].append(rest[1])
            print(f"Added:\n  - microk8s.kubectl as {rest[1]}")
            return 0
        if command == "restart":
            if rest != ["microk8s.daemon-kubelite"] or not state["installed"]:
                return fail("error: snap service not found")
            restart_kubelite(state)
            print("Restarted.")
            return 0
        if command == "remove":
            return snap_remove(state, rest)
    return fail(f'error: unknown command "{command}"')
