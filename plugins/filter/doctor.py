"""The doctor's judgement: raw readings of a onebox host in, one line per check out.

- ``readings | doctor_report(thresholds, expected)`` -> ``{status, lines, counts, text}``.

``readings`` is what roles/doctor/files/doctor_readings.py printed on the host: file contents
and command outputs exactly as the commands wrote them (``/proc/meminfo``, ``snap list``,
``kubectl get pods -o json`` ...), so the tests feed this filter recorded outputs of the real
commands (tests/doctor/recorded/). ``thresholds`` are the role's ``doctor_*`` limits,
``expected`` what the inventory says the box should be (the pinned channel, the backup
prefix, the memory budget, whether it runs a cluster at all: ``cluster``). Pure: no I/O,
the time is the host's, from the readings.

Each line: ``{section, check, status (green|amber|red), value, detail, action}``. ``value`` is
the number behind the verdict (None when there is none), ``action`` what a person does next.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The one quantity parser, from the sibling plugin (Ansible loads plugins by path, not as a
# package, so a plain import would not find it).
_spec = importlib.util.spec_from_file_location(
    "onebox_memory_budget_for_doctor", Path(__file__).with_name("memory_budget.py")
)
_memory_budget = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_memory_budget)
k8s_quantity_bytes = _memory_budget.k8s_quantity_bytes

GREEN = "green"
AMBER = "amber"
RED = "red"
_RANK = {GREEN: 0, AMBER: 1, RED: 2}
SECTIONS = ("host", "microk8s", "pods", "certificate", "backups", "memory")
MIB = 1024 * 1024

# What only a running cluster makes true: an inventory that renders without one (the sandbox,
# onebox_kube_apply: false) leaves these out and says so, rather than reporting them red.
CLUSTER_SECTIONS = ("microk8s", "pods", "certificate")
CLUSTER_BACKUP_CHECK = "newest dump"  # the nightly dump comes from the cluster's CronJob

_NO_MICROK8S = "MicroK8s is not installed on this host"
_INSTALL_MICROK8S = "Run site.yml (roles/microk8s) to install it, or check the inventory's host."


def _line(section, check, status, value, detail, action=""):
    return {
        "section": section,
        "check": check,
        "status": status,
        "value": value,
        "detail": detail,
        "action": action if status != GREEN else "",
    }


def _level(value, amber, red, higher_is_worse=True):
    """green/amber/red for a number against two limits (amber before red)."""
    if higher_is_worse:
        return RED if value >= red else AMBER if value >= amber else GREEN
    return RED if value <= red else AMBER if value <= amber else GREEN


def _worst(statuses):
    return max(statuses, key=_RANK.__getitem__, default=GREEN)


def _timestamp(text: str) -> float:
    """Seconds since the epoch of a Kubernetes/RFC 3339 time such as 2019-04-29T17:34:29Z."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _ran(result) -> bool:
    return isinstance(result, Mapping) and not result.get("missing") and result.get("rc") == 0


def _why(result) -> str:
    """What a command that failed said, in one line."""
    if not isinstance(result, Mapping):
        return "not read"
    if result.get("missing"):
        return f"{result.get('command', 'the command')} is not there"
    text = (result.get("stderr") or result.get("stdout") or "").strip().splitlines()
    return f"exit {result.get('rc')}: {text[-1] if text else 'no output'}"


# --- parsers of the raw outputs ---------------------------------------------------------------


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo -> {field: kB}."""
    values = {}
    for row in text.splitlines():
        match = re.match(r"^(\w+(?:\(\w+\))?):\s+(\d+)", row)
        if match:
            values[match.group(1)] = int(match.group(2))
    return values


def parse_psi(text: str) -> dict[str, dict[str, float]]:
    """/proc/pressure/memory -> {'some': {'avg10': .., 'avg60': .., ...}, 'full': {...}}."""
    result = {}
    for row in text.splitlines():
        kind, *fields = row.split()
        result[kind] = {k: float(v) for k, v in (f.split("=", 1) for f in fields)}
    return result


def count_earlyoom_kills(journal: str) -> int:
    """Kills in earlyoom's journal: one 'sending SIGTERM/SIGKILL to process' line each."""
    return len(re.findall(r"^.*sending SIG(?:TERM|KILL) to process \d+", journal, flags=re.M))


def parse_snap_list(text: str) -> dict[str, dict[str, str]]:
    """`snap list` -> {name: {version, rev, tracking, publisher, notes}}."""
    rows = {}
    lines = [row for row in text.splitlines() if row.strip()]
    if not lines or not lines[0].startswith("Name"):
        return rows
    for row in lines[1:]:
        fields = row.split()
        if len(fields) >= 6:
            name, version, rev, tracking, publisher, notes = fields[:6]
            rows[name] = {
                "version": version,
                "rev": rev,
                "tracking": tracking,
                "publisher": publisher,
                "notes": notes,
            }
    return rows


def parse_snap_channels(text: str) -> dict[str, dict[str, str]]:
    """The channels block of `snap info` -> {channel: {version, rev}} ('--' and '^' skipped)."""
    channels = {}
    for match in re.finditer(
        r"^\s+([0-9a-z.]+/[a-z]+(?:/[^:\s]+)?):\s+(\S+)\s+(?:\S+\s+)?\((\d+)\)", text, flags=re.M
    ):
        channels[match.group(1)] = {"version": match.group(2), "rev": match.group(3)}
    return channels


def parse_systemctl_show(text: str) -> dict[str, str]:
    return dict(row.split("=", 1) for row in text.splitlines() if "=" in row)


def parse_openssl_dates(text: str) -> dict[str, str]:
    """`openssl x509 -noout -enddate -subject` -> {'notAfter': ..., 'subject': ...}."""
    return dict(row.split("=", 1) for row in text.splitlines() if "=" in row)


def openssl_time(text: str) -> float:
    """'Apr 29 17:34:29 2019 GMT' (openssl's notAfter) -> seconds since the epoch."""
    parsed = datetime.strptime(re.sub(r"\s+", " ", text.strip()), "%b %d %H:%M:%S %Y %Z")
    return parsed.replace(tzinfo=UTC).timestamp()


def parse_top(text: str) -> dict[str, int]:
    """`kubectl top pods` -> {pod: bytes}; the header line is skipped."""
    usage = {}
    for row in text.splitlines():
        fields = row.split()
        if len(fields) >= 3 and fields[0] != "NAME":
            usage[fields[0]] = k8s_quantity_bytes(fields[2], f"kubectl top: {fields[0]}")
    return usage


def _json(result, what: str):
    try:
        return json.loads(result["stdout"])
    except (KeyError, TypeError, ValueError) as error:
        raise AnsibleFilterError(f"doctor: {what} printed no JSON ({error}).") from error


# --- the checks ------------------------------------------------------------------------------


def _host(readings, t):
    lines = []
    mem = parse_meminfo(readings.get("meminfo") or "")
    if "MemTotal" in mem and "MemAvailable" in mem:
        pct = round(100 * mem["MemAvailable"] / mem["MemTotal"], 1)
        status = _level(pct, t["ram_available_amber_pct"], t["ram_available_red_pct"], False)
        lines.append(
            _line(
                "host",
                "RAM available",
                status,
                pct,
                f"{mem['MemAvailable'] // 1024} MiB of {mem['MemTotal'] // 1024} MiB available "
                f"({pct}%)",
                "Find what grew (the pods' memory line, `ps aux --sort=-rss`); lower limits or "
                "move to a larger VM, and re-check the memory budget.",
            )
        )
        used_mib = (mem.get("SwapTotal", 0) - mem.get("SwapFree", 0)) // 1024
        status = _level(used_mib, t["swap_used_amber_mib"], t["swap_used_red_mib"])
        lines.append(
            _line(
                "host",
                "swap in use",
                status,
                used_mib,
                f"{used_mib} MiB of {mem.get('SwapTotal', 0) // 1024} MiB swap in use",
                "RAM is short: the workloads' pages are being swapped. Lower the limits in the "
                "memory plan (onebox_memory) or move to a larger VM.",
            )
        )
    else:
        lines.append(_line("host", "RAM available", RED, None, "/proc/meminfo not read", ""))
    psi = readings.get("psi_memory")
    if psi:
        some = parse_psi(psi).get("some", {}).get("avg60", 0.0)
        status = _level(some, t["psi_some_avg60_amber"], t["psi_some_avg60_red"])
        lines.append(
            _line(
                "host",
                "memory pressure",
                status,
                some,
                f"tasks stalled on memory {some}% of the last 60 s (PSI some avg60)",
                "The box is reclaiming hard: see the RAM and swap lines; lower limits or add RAM.",
            )
        )
    else:
        lines.append(
            _line(
                "host",
                "memory pressure",
                AMBER,
                None,
                "unknown: /proc/pressure/memory is absent (kernel without PSI)",
                "Boot a kernel with psi=1 (Debian's has it) to see memory stalls.",
            )
        )
    earlyoom = readings.get("earlyoom") or {}
    if not earlyoom.get("installed"):
        lines.append(
            _line(
                "host",
                "earlyoom kills (24 h)",
                AMBER,
                None,
                "earlyoom is not installed: nothing steps in before the kernel's OOM killer",
                "Run site.yml (roles/swap_guard installs earlyoom).",
            )
        )
    else:
        kills = count_earlyoom_kills(earlyoom.get("journal") or "")
        status = _level(kills, t["earlyoom_kills_amber"], t["earlyoom_kills_red"])
        lines.append(
            _line(
                "host",
                "earlyoom kills (24 h)",
                status,
                kills,
                f"{kills} process(es) killed by earlyoom in the last 24 h",
                "`journalctl -u earlyoom --since -24h` names them; raise that workload's limit "
                "in the plan or find its leak.",
            )
        )
    for disk in readings.get("disks") or []:
        lines.append(_disk_line(disk, t))
    return lines


def _disk_line(disk, t):
    label = f"free disk {disk['path']}"
    if not disk.get("total"):
        return _line("host", label, RED, None, f"{disk['path']} could not be measured", "")
    free_mib = disk["free"] // MIB
    pct = round(100 * disk["free"] / disk["total"], 1)
    status = _worst(
        [
            _level(pct, t["disk_free_amber_pct"], t["disk_free_red_pct"], False),
            RED if free_mib < t["disk_free_red_mib"] else GREEN,
        ]
    )
    where = (
        ""
        if disk.get("measured", disk["path"]) == disk["path"]
        else (f" (measured on {disk['measured']}: {disk['path']} does not exist)")
    )
    return _line(
        "host",
        label,
        status,
        pct,
        f"{free_mib} MiB free of {disk['total'] // MIB} MiB ({pct}%){where}",
        f"Free space on {disk['path']}: `du -xh {disk['path']} | sort -h | tail`; old snap "
        "revisions (`snap list --all`), journal (`journalctl --vacuum-size=200M`), dumps beyond "
        "backup_keep; or grow the disk.",
    )


def _microk8s(readings, t, expected):
    m = readings.get("microk8s") or {}
    if not m.get("installed"):
        return [
            _line("microk8s", check, RED, None, _NO_MICROK8S, _INSTALL_MICROK8S)
            for check in ("channel and revision", "refresh hold", "node Ready", "kubelite restarts")
        ]
    lines = []
    snap = parse_snap_list(m.get("snap_list", {}).get("stdout", "")).get("microk8s")
    channel = expected.get("microk8s_channel", "")
    if snap is None:
        lines.append(
            _line(
                "microk8s",
                "channel and revision",
                RED,
                None,
                f"`snap list microk8s` did not list it ({_why(m.get('snap_list'))})",
                _INSTALL_MICROK8S,
            )
        )
    elif channel and snap["tracking"] != channel:
        lines.append(
            _line(
                "microk8s",
                "channel and revision",
                RED,
                int(snap["rev"]),
                f"tracks {snap['tracking']} (revision {snap['rev']}), the inventory pins {channel}",
                "Changing the channel is an upgrade: run playbooks/upgrade.yml, or set "
                f"microk8s_channel back to {snap['tracking']}.",
            )
        )
    else:
        published = parse_snap_channels(m.get("snap_info", {}).get("stdout", "")).get(
            snap["tracking"]
        )
        if published is None:
            lines.append(
                _line(
                    "microk8s",
                    "channel and revision",
                    AMBER,
                    int(snap["rev"]),
                    f"{snap['tracking']} revision {snap['rev']} ({snap['version']}); the store's "
                    f"revision is unknown ({_why(m.get('snap_info'))})",
                    "`snap info microk8s` needs the snap store: check the host's network.",
                )
            )
        elif int(published["rev"]) != int(snap["rev"]):
            lines.append(
                _line(
                    "microk8s",
                    "channel and revision",
                    AMBER,
                    int(snap["rev"]),
                    f"{snap['tracking']} revision {snap['rev']} ({snap['version']}); the channel "
                    f"has {published['rev']} ({published['version']})",
                    "Refreshes are held: plan the refresh with playbooks/upgrade.yml "
                    "(staging first).",
                )
            )
        else:
            lines.append(
                _line(
                    "microk8s",
                    "channel and revision",
                    GREEN,
                    int(snap["rev"]),
                    f"{snap['tracking']} revision {snap['rev']} ({snap['version']}), as published",
                )
            )
    if snap is not None:
        held = "held" in snap["notes"].split(",")
        want = expected.get("hold_refreshes", True)
        status = GREEN if held == want else AMBER
        lines.append(
            _line(
                "microk8s",
                "refresh hold",
                status,
                None,
                f"refreshes {'held' if held else 'not held'} (notes: {snap['notes']}); "
                f"microk8s_hold_refreshes is {str(want).lower()}",
                "Run site.yml: roles/microk8s holds (or releases) refreshes as the inventory says.",
            )
        )
    lines.append(_node_line(m.get("nodes")))
    lines.append(_kubelite_line(m.get("kubelite"), t))
    return lines


def _node_line(result):
    if not _ran(result):
        return _line(
            "microk8s",
            "node Ready",
            RED,
            None,
            f"`kubectl get nodes` failed ({_why(result)})",
            "`microk8s status --wait-ready`; `journalctl -u snap.microk8s.daemon-kubelite`.",
        )
    nodes = _json(result, "kubectl get nodes")["items"]
    not_ready = []
    for node in nodes:
        ready = next((c for c in node["status"].get("conditions", []) if c["type"] == "Ready"), {})
        if ready.get("status") != "True":
            not_ready.append(f"{node['metadata']['name']} ({ready.get('reason', 'no Ready')})")
    return _line(
        "microk8s",
        "node Ready",
        RED if not_ready or not nodes else GREEN,
        len(nodes) - len(not_ready),
        f"{len(nodes) - len(not_ready)} of {len(nodes)} node(s) Ready"
        + (f"; not Ready: {', '.join(not_ready)}" if not_ready else ""),
        "`microk8s kubectl describe node` shows why (pressure, kubelet stopped).",
    )


def _kubelite_line(result, t):
    if not _ran(result):
        return _line("microk8s", "kubelite restarts", RED, None, f"not read ({_why(result)})", "")
    show = parse_systemctl_show(result["stdout"])
    restarts = int(show.get("NRestarts", "0"))
    active = show.get("ActiveState", "unknown")
    status = _level(restarts, t["kubelite_restarts_amber"], t["kubelite_restarts_red"])
    if active != "active":
        status = RED
    return _line(
        "microk8s",
        "kubelite restarts",
        status,
        restarts,
        f"snap.microk8s.daemon-kubelite is {active}, restarted {restarts} time(s) since it started",
        "`journalctl -u snap.microk8s.daemon-kubelite` says why it stopped (often memory).",
    )


def _pods(readings, t, now):
    m = readings.get("microk8s") or {}
    checks = ("restarts", "OOMKilled", "memory against limit", "pending pods")
    if not m.get("installed"):
        return [_line("pods", c, RED, None, _NO_MICROK8S, _INSTALL_MICROK8S) for c in checks]
    if not _ran(m.get("pods")):
        return [
            _line("pods", c, RED, None, f"`kubectl get pods` failed ({_why(m.get('pods'))})", "")
            for c in checks
        ]
    pods = _json(m["pods"], "kubectl get pods")["items"]
    lines = []
    restarts, ooms = [], []
    for pod in pods:
        name = f"{pod['metadata'].get('namespace', '')}/{pod['metadata']['name']}"
        for status in pod.get("status", {}).get("containerStatuses", []):
            restarts.append((status.get("restartCount", 0), f"{name}:{status['name']}"))
            terminated = (status.get("lastState") or {}).get("terminated") or {}
            if terminated.get("reason") == "OOMKilled":
                finished = terminated.get("finishedAt")
                age_h = (now - _timestamp(finished)) / 3600 if finished else 0.0
                ooms.append((age_h, f"{name}:{status['name']}"))
    most = max(restarts, default=(0, ""))
    status = _level(most[0], t["pod_restarts_amber"], t["pod_restarts_red"])
    lines.append(
        _line(
            "pods",
            "restarts",
            status,
            most[0],
            f"most restarts: {most[0]} ({most[1]})" if most[1] else "no containers",
            f"`microk8s kubectl logs --previous {most[1].split(':')[0].split('/')[-1]}"
            f" -n {most[1].split('/')[0]}` shows why it died.",
        )
    )
    recent = [name for age, name in ooms if age <= t["oom_recent_hours"]]
    oom_status = RED if recent else AMBER if ooms else GREEN
    lines.append(
        _line(
            "pods",
            "OOMKilled",
            oom_status,
            len(ooms),
            (
                f"{len(ooms)} container(s) last ended OOMKilled"
                + (f", {len(recent)} in the last {t['oom_recent_hours']} h" if ooms else "")
                + (f": {', '.join(recent or [n for _, n in ooms])}" if ooms else "")
            ),
            "Raise that workload's memory limit in the plan (onebox_memory / the app's profile) "
            "and re-check the budget; or find the leak.",
        )
    )
    lines.append(_memory_line(pods, m.get("top"), t))
    pending = []
    for pod in pods:
        if pod.get("status", {}).get("phase") == "Pending":
            created = pod["metadata"].get("creationTimestamp")
            minutes = (now - _timestamp(created)) / 60 if created else 0.0
            why = next(
                (
                    c.get("message", c.get("reason", ""))
                    for c in pod["status"].get("conditions", [])
                    if c.get("status") == "False"
                ),
                "",
            )
            pending.append((minutes, pod["metadata"]["name"], why))
    stuck = [p for p in pending if p[0] >= t["pending_red_minutes"]]
    lines.append(
        _line(
            "pods",
            "pending pods",
            RED if stuck else AMBER if pending else GREEN,
            len(pending),
            f"{len(pending)} pod(s) Pending"
            + "".join(f"; {name} for {minutes:.0f} min: {why}" for minutes, name, why in pending),
            "`microk8s kubectl describe pod <name>`: the events say what it waits for (memory, "
            "a volume, an image).",
        )
    )
    return lines


def _memory_line(pods, top, t):
    if not _ran(top):
        return _line(
            "pods",
            "memory against limit",
            AMBER,
            None,
            f"unknown: `kubectl top` needs metrics-server ({_why(top)})",
            "Enable it for this line (microk8s_addons: metrics-server: true, about 50 MiB).",
        )
    usage = parse_top(top["stdout"])
    worst = (0.0, "", 0, 0)
    for pod in pods:
        name = pod["metadata"]["name"]
        if name not in usage:
            continue
        limits = [
            c.get("resources", {}).get("limits", {}).get("memory")
            for c in pod.get("spec", {}).get("containers", [])
        ]
        if not limits or None in limits:
            continue
        limit = sum(k8s_quantity_bytes(q, f"pod {name}'s memory limit") for q in limits)
        pct = round(100 * usage[name] / limit, 1)
        worst = max(worst, (pct, name, usage[name], limit))
    pct, name, used, limit = worst
    return _line(
        "pods",
        "memory against limit",
        _level(pct, t["pod_memory_amber_pct"], t["pod_memory_red_pct"]),
        pct,
        f"highest: {name} uses {used // MIB} MiB of its {limit // MIB} MiB limit ({pct}%)"
        if name
        else "no pod with a memory limit reports usage",
        "Near its limit the kernel OOM-kills it: raise the limit in the plan or find the leak.",
    )


def _certificate(readings, t, now):
    lines = []
    m = readings.get("microk8s") or {}
    check = "days left (Certificate)"
    if not m.get("installed"):
        lines.append(_line("certificate", check, RED, None, _NO_MICROK8S, _INSTALL_MICROK8S))
    elif not _ran(m.get("certificates")):
        lines.append(
            _line(
                "certificate",
                check,
                RED,
                None,
                f"`kubectl get certificates` failed ({_why(m.get('certificates'))})",
                "Is the cert-manager addon on (microk8s_addons: cert-manager: true)?",
            )
        )
    else:
        certs = _json(m["certificates"], "kubectl get certificates")["items"]
        if not certs:
            lines.append(
                _line(
                    "certificate",
                    check,
                    RED,
                    None,
                    "no cert-manager Certificate in the namespace",
                    "Run site.yml (roles/ingress asks cert-manager for one).",
                )
            )
        for cert in certs:
            status = cert.get("status") or {}
            ready = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), {})
            name = cert["metadata"]["name"]
            if "notAfter" not in status:
                lines.append(
                    _line(
                        "certificate",
                        f"{check}: {name}",
                        RED,
                        None,
                        f"not issued: {ready.get('message', 'no status yet')}",
                        "`microk8s kubectl describe certificaterequest,order,challenge -n "
                        "<namespace>` shows where issuing stopped.",
                    )
                )
                continue
            days = round((_timestamp(status["notAfter"]) - now) / 86400, 1)
            level = _level(days, t["cert_days_amber"], t["cert_days_red"], False)
            lines.append(
                _line(
                    "certificate",
                    f"{check}: {name}",
                    level,
                    days,
                    (f"EXPIRED {-days} days ago" if days < 0 else f"{days} days left")
                    + f" (notAfter {status['notAfter']}; Ready={ready.get('status', '?')})",
                    "cert-manager renews 30 days before expiry: `microk8s kubectl describe "
                    "certificate` and the cert-manager pod's log say why it has not.",
                )
            )
    lines.append(_tls_line(readings.get("tls"), t, now))
    return lines


def _tls_line(tls, t, now):
    check = "days left (TLS handshake)"
    if not isinstance(tls, Mapping) or tls.get("skipped"):
        return _line(
            "certificate",
            check,
            AMBER,
            None,
            "not checked: no host name to ask (ingress_host)",
            "Set ingress_host in the inventory.",
        )
    target = f"{tls.get('host')} via {tls.get('connect')}"
    dates = parse_openssl_dates(tls.get("stdout") or "") if _ran(tls) else {}
    if "notAfter" not in dates:
        return _line(
            "certificate",
            check,
            RED,
            None,
            f"no certificate from {target} ({_why(tls)})",
            "Is the ingress up (`microk8s kubectl get pods -n ingress`) and port 443 open?",
        )
    days = round((openssl_time(dates["notAfter"]) - now) / 86400, 1)
    return _line(
        "certificate",
        check,
        _level(days, t["cert_days_amber"], t["cert_days_red"], False),
        days,
        (f"EXPIRED {-days} days ago" if days < 0 else f"{days} days left")
        + f": {target} serves {dates.get('subject', '?').strip()} until {dates['notAfter']}",
        "If the Certificate line is green and this one is not, the ingress serves an old "
        "secret: check the Ingress' tls.secretName and restart the ingress controller.",
    )


def _backups(readings, t, expected, now):
    lines = []
    if not expected.get("cluster", True):
        return [_offsite_line(readings.get("offsite"), t, now)]
    backup = readings.get("backups") or {}
    prefix = re.escape(expected.get("backup_prefix", "onebox"))
    dumps = sorted(
        (f for f in backup.get("files", []) if re.fullmatch(rf"{prefix}-.+\.dump", f["name"])),
        key=lambda f: f["mtime"],
    )
    if not backup.get("exists"):
        lines.append(
            _line(
                "backups",
                "newest dump",
                RED,
                None,
                f"{backup.get('dir')} does not exist",
                "Run site.yml (roles/backup makes the directory and the nightly CronJob).",
            )
        )
    elif not dumps:
        lines.append(
            _line(
                "backups",
                "newest dump",
                RED,
                None,
                f"no {expected.get('backup_prefix', 'onebox')}-*.dump in {backup.get('dir')}",
                "Run playbooks/backup.yml now and see why the CronJob made none "
                "(`microk8s kubectl get jobs -n <namespace>`).",
            )
        )
    else:
        newest = dumps[-1]
        hours = round((now - newest["mtime"]) / 3600, 1)
        lines.append(
            _line(
                "backups",
                "newest dump",
                _level(hours, t["backup_age_amber_hours"], t["backup_age_red_hours"]),
                hours,
                f"{newest['name']}, {hours} h old, {newest['size'] // 1024} KiB "
                f"({len(dumps)} dump(s) in {backup.get('dir')})",
                "The nightly backup has not run: `microk8s kubectl get cronjob,jobs -n "
                "<namespace>`; run playbooks/backup.yml.",
            )
        )
    lines.append(_offsite_line(readings.get("offsite"), t, now))
    return lines


def _offsite_line(offsite, t, now):
    if not isinstance(offsite, Mapping) or offsite.get("missing"):
        return _line(
            "backups",
            "newest off-site snapshot",
            AMBER,
            None,
            "no off-site copy configured (onebox-offsite is not installed)",
            "Configure the off-site backup: the dumps live only on this VM.",
        )
    if not _ran(offsite):
        return _line(
            "backups",
            "newest off-site snapshot",
            RED,
            None,
            f"`onebox-offsite latest` failed ({_why(offsite)})",
            "Check the repository's address and credentials (the off-site role's README).",
        )
    try:
        latest = json.loads(offsite["stdout"]) if offsite["stdout"].strip() else None
    except ValueError:
        latest = None
    if not latest or "time" not in latest:
        return _line(
            "backups",
            "newest off-site snapshot",
            RED,
            None,
            "the off-site repository holds no snapshot",
            "Run the off-site backup now and check its timer's log.",
        )
    hours = round((now - _timestamp(latest["time"])) / 3600, 1)
    return _line(
        "backups",
        "newest off-site snapshot",
        _level(hours, t["offsite_age_amber_hours"], t["offsite_age_red_hours"]),
        hours,
        f"snapshot {latest.get('id', '?')}, {hours} h old ({latest['time']})",
        "The off-site copy is behind: check its systemd timer and log.",
    )


def _memory(expected, t):
    budget = expected.get("memory_budget")
    if not isinstance(budget, Mapping) or "headroom_mib" not in budget:
        return [
            _line(
                "memory",
                "budget headroom",
                AMBER,
                None,
                "no memory plan given (doctor_memory_plan)",
                "Run the doctor through playbooks/doctor.yml: the wiring passes the plan.",
            )
        ]
    headroom = budget["headroom_mib"]
    status = RED if headroom < 0 else AMBER if headroom < t["memory_headroom_amber_mib"] else GREEN
    return [
        _line(
            "memory",
            "budget headroom",
            status,
            headroom,
            f"{budget['total_mib']} MiB planned of {budget['ram_mib']} MiB RAM, "
            f"{headroom} MiB to spare",
            "`ansible-playbook playbooks/preflight.yml` prints the table: lower a limit or "
            "move to a larger VM.",
        )
    ]


def doctor_report(readings: object, thresholds: object, expected: object = None) -> dict:
    """The doctor's lines, the worst status and a text rendering (see the module's doc)."""
    if not isinstance(readings, Mapping) or "time" not in readings:
        raise AnsibleFilterError("doctor_report: readings must be doctor_readings.py's output.")
    if not isinstance(thresholds, Mapping):
        raise AnsibleFilterError("doctor_report: thresholds must be a mapping.")
    expected = expected or {}
    sections = expected.get("sections", SECTIONS)
    not_checked = []
    if not expected.get("cluster", True):
        not_checked = [s for s in CLUSTER_SECTIONS if s in sections]
        not_checked += [CLUSTER_BACKUP_CHECK] if "backups" in sections else []
        sections = [s for s in sections if s not in CLUSTER_SECTIONS]
    now = float(readings["time"])
    checks = {
        "host": lambda: _host(readings, thresholds),
        "microk8s": lambda: _microk8s(readings, thresholds, expected),
        "pods": lambda: _pods(readings, thresholds, now),
        "certificate": lambda: _certificate(readings, thresholds, now),
        "backups": lambda: _backups(readings, thresholds, expected, now),
        "memory": lambda: _memory(expected, thresholds),
    }
    lines = [line for section in SECTIONS if section in sections for line in checks[section]()]
    status = _worst(line["status"] for line in lines)
    counts = {s: sum(1 for line in lines if line["status"] == s) for s in (GREEN, AMBER, RED)}
    width = max((len(line["check"]) for line in lines), default=0)
    text = [
        f"{line['status'].upper():<5}  {line['section']:<11}  {line['check']:<{width}}  "
        f"{line['detail']}" + (f"  -> {line['action']}" if line["action"] else "")
        for line in lines
    ]
    text.append(
        f"{status.upper()}: {counts[GREEN]} green, {counts[AMBER]} amber, {counts[RED]} red "
        f"(at {datetime.fromtimestamp(now, UTC).strftime('%Y-%m-%dT%H:%M:%SZ')})"
        + (
            f"; not checked: {', '.join(not_checked)} (this inventory renders without a "
            "cluster: onebox_kube_apply is false)"
            if not_checked
            else ""
        )
    )
    return {
        "status": status,
        "time": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "counts": counts,
        "lines": lines,
        "not_checked": not_checked,
        "text": text,
    }


class FilterModule:
    def filters(self) -> dict:
        return {"doctor_report": doctor_report}
