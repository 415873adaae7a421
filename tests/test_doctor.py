"""The doctor's judgement (plugins/filter/doctor.py) on recorded outputs of the real commands.

Each file in tests/doctor/recorded/ is cited in tests/doctor/README.md. The planted faults of
issue 16 are here: an expired certificate (red), an OOMKilled container (red when recent,
amber when old), a pending pod (amber, then red), MicroK8s absent (red, not a crash).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime

import pytest
import yaml
from conftest import REPO, filter_plugin

doctor = filter_plugin("doctor")

RECORDED = REPO / "tests/doctor/recorded"
DEFAULTS = yaml.safe_load((REPO / "roles/doctor/defaults/main.yml").read_text())
# The role hands the filter its thresholds without the doctor_ prefix (roles/doctor/vars).
_PASSED = yaml.safe_load((REPO / "roles/doctor/vars/main.yml").read_text())["_doctor_thresholds"]
THRESHOLDS = {name: DEFAULTS[f"doctor_{name}"] for name in _PASSED}


def recorded(name: str) -> str:
    return (RECORDED / name).read_text()


def at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def ok(stdout: str) -> dict:
    return {"rc": 0, "stdout": stdout, "stderr": ""}


def cluster(**overrides) -> dict:
    """A host with MicroK8s whose commands printed the recorded outputs."""
    readings = {
        "installed": True,
        "snap_list": ok(recorded("snap_list_microk8s.txt")),
        "snap_info": ok(recorded("snap_info_microk8s_channels.txt")),
        "kubelite": ok("NRestarts=0\nActiveState=active\n"),
        "nodes": ok(recorded("kubectl_get_nodes_ready.json")),
        "pods": ok(recorded("kubectl_get_pods_mem_example.json")),
        "certificates": ok(recorded("kubectl_get_certificates_expired.json")),
        "top": ok(recorded("kubectl_top_pods.txt")),
    }
    return {**readings, **overrides}


def readings(now: str, **overrides) -> dict:
    base = {
        "time": at(now),
        "meminfo": recorded("proc_meminfo_no_swap.txt"),
        "psi_memory": recorded("proc_pressure_memory_idle.txt"),
        "earlyoom": {"installed": True, "journal": ""},
        "disks": [{"path": "/", "measured": "/", "total": 40 << 30, "free": 30 << 30}],
        "backups": {"dir": "/var/backups/onebox", "exists": True, "files": []},
        "offsite": {"missing": True, "command": "/usr/local/sbin/onebox-offsite"},
        "microk8s": cluster(),
        "tls": {"host": "onebox.localhost", "connect": "127.0.0.1:443", "skipped": True},
    }
    return {**base, **overrides}


def report(data: dict, thresholds: dict | None = None, **expected) -> dict:
    return doctor.doctor_report(
        data, {**THRESHOLDS, **(thresholds or {})}, {"microk8s_channel": "1.21/stable", **expected}
    )


def line(result: dict, check: str) -> dict:
    found = [entry for entry in result["lines"] if entry["check"].startswith(check)]
    assert len(found) == 1, (check, [entry["check"] for entry in result["lines"]])
    return found[0]


# --- certificate --------------------------------------------------------------------------------


def test_the_recorded_expired_certificate_is_red():
    # cert-manager's own docs: Ready=True, notAfter 2019-04-29. The doctor reads the date, not
    # only the Ready condition, which cert-manager last set while it was valid.
    result = report(readings("2026-12-02T00:00:00Z"))
    cert = line(result, "days left (Certificate): selfsigned-cert")
    assert cert["status"] == "red"
    assert cert["value"] < -2700
    assert "EXPIRED" in cert["detail"] and "2019-04-29T17:34:29Z" in cert["detail"]
    assert "renews" in cert["action"]
    assert result["status"] == "red"


@pytest.mark.parametrize(
    ("now", "status"),
    [
        ("2019-03-01T00:00:00Z", "green"),
        ("2019-04-15T00:00:00Z", "amber"),
        ("2019-04-25T00:00:00Z", "red"),
    ],
)
def test_the_same_certificate_before_it_expired(now, status):
    assert line(report(readings(now)), "days left (Certificate)")["status"] == status


def test_the_tls_handshake_of_an_expired_certificate_is_red():
    # openssl's real output (README: an s_server with an expired certificate).
    tls = {
        "host": "onebox.localhost",
        "connect": "127.0.0.1:18443",
        **ok(recorded("openssl_x509_enddate_expired.txt")),
    }
    handshake = line(report(readings("2026-12-02T00:00:00Z", tls=tls)), "days left (TLS")
    assert handshake["status"] == "red"
    assert handshake["value"] == pytest.approx(-32.5, abs=0.1)
    assert "CN = onebox.localhost" in handshake["detail"]


def test_the_tls_handshake_of_a_valid_certificate_is_green():
    tls = {
        "host": "onebox.localhost",
        "connect": "127.0.0.1:18443",
        **ok(recorded("openssl_x509_enddate_valid.txt")),
    }
    handshake = line(report(readings("2026-12-02T00:00:00Z", tls=tls)), "days left (TLS")
    assert handshake["status"] == "green"
    assert handshake["value"] == pytest.approx(78.5, abs=0.1)


def test_no_certificate_served_is_red():
    tls = {
        "host": "onebox.localhost",
        "connect": "127.0.0.1:443",
        "rc": 1,
        "stdout": "",
        "stderr": "connect:errno=111\n",
    }
    handshake = line(report(readings("2026-12-02T00:00:00Z", tls=tls)), "days left (TLS")
    assert handshake["status"] == "red"
    assert "errno=111" in handshake["detail"]


# --- pods ---------------------------------------------------------------------------------------


def test_an_oomkilled_container_is_red_within_a_day_of_the_kill():
    # memory-demo-2 of the Kubernetes docs: lastState terminated OOMKilled at 2017-06-20T20:52:19Z.
    oom = line(report(readings("2017-06-20T21:00:00Z")), "OOMKilled")
    assert oom["status"] == "red"
    assert oom["value"] == 1
    assert "mem-example/memory-demo-2:memory-demo-2-ctr" in oom["detail"]
    assert "memory limit" in oom["action"]


def test_an_old_oom_kill_is_amber():
    assert line(report(readings("2017-06-25T00:00:00Z")), "OOMKilled")["status"] == "amber"


def test_no_oom_kill_is_green():
    pods = json.loads(recorded("kubectl_get_pods_mem_example.json"))
    pods["items"] = [pods["items"][0]]
    data = readings("2017-06-20T21:00:00Z", microk8s=cluster(pods=ok(json.dumps(pods))))
    assert line(report(data), "OOMKilled")["status"] == "green"


@pytest.mark.parametrize(
    ("now", "status"), [("2017-06-20T20:56:00Z", "amber"), ("2017-06-20T21:30:00Z", "red")]
)
def test_a_pending_pod_is_amber_then_red(now, status):
    pending = line(report(readings(now)), "pending pods")
    assert pending["status"] == status
    assert pending["value"] == 1
    assert "memory-demo-3" in pending["detail"] and "Insufficient memory" in pending["detail"]


def test_restarts_against_their_thresholds():
    # memory-demo-2 restarted twice: under the default amber (3), amber at 2.
    assert line(report(readings("2017-06-21T00:00:00Z")), "restarts")["status"] == "green"
    lowered = report(readings("2017-06-21T00:00:00Z"), {"pod_restarts_amber": 2})
    assert line(lowered, "restarts")["status"] == "amber"
    assert line(lowered, "restarts")["value"] == 2


def test_memory_against_limit_from_kubectl_top():
    # memory-demo uses 162856960 bytes of its 200Mi limit: 77.7%.
    memory = line(report(readings("2017-06-21T00:00:00Z")), "memory against limit")
    assert memory["status"] == "green"
    assert memory["value"] == pytest.approx(77.7, abs=0.05)
    lowered = report(readings("2017-06-21T00:00:00Z"), {"pod_memory_amber_pct": 75})
    assert line(lowered, "memory against limit")["status"] == "amber"


def test_memory_against_limit_without_metrics_server_is_amber_unknown():
    # kubectl top's message when no metrics API is served (kubectl's top command).
    top = {"rc": 1, "stdout": "", "stderr": "error: Metrics API not available\n"}
    data = readings("2017-06-21T00:00:00Z", microk8s=cluster(top=top))
    memory = line(report(data), "memory against limit")
    assert memory["status"] == "amber"
    assert memory["detail"].startswith("unknown")
    assert "metrics-server" in memory["detail"] and "Metrics API not available" in memory["detail"]


# --- MicroK8s -----------------------------------------------------------------------------------


def test_microk8s_absent_gives_red_lines_not_a_crash():
    result = report(readings("2026-12-02T00:00:00Z", microk8s={"installed": False}))
    cluster_lines = [e for e in result["lines"] if e["section"] in ("microk8s", "pods")]
    assert len(cluster_lines) == 8
    assert {e["status"] for e in cluster_lines} == {"red"}
    assert all("MicroK8s is not installed" in e["detail"] for e in cluster_lines)
    assert "not installed" in line(result, "days left (Certificate)")["detail"]
    assert line(result, "RAM available")["status"] == "green"


def test_a_channel_other_than_the_pinned_one_is_red():
    channel = line(
        report(readings("2026-12-02T00:00:00Z"), microk8s_channel="1.36/stable"),
        "channel and revision",
    )
    assert channel["status"] == "red"
    assert channel["value"] == 3058
    assert "tracks 1.21/stable" in channel["detail"] and "upgrade.yml" in channel["action"]


def test_the_pinned_channel_with_an_unknown_store_revision_is_amber():
    # The recorded `snap info` lists 1.22 channels only: 1.21/stable's revision is unknown.
    channel = line(report(readings("2026-12-02T00:00:00Z")), "channel and revision")
    assert channel["status"] == "amber"
    assert "unknown" in channel["detail"]


def test_snap_info_channels_and_a_revision_behind_the_channel():
    channels = doctor.parse_snap_channels(recorded("snap_info_microk8s_channels.txt"))
    assert channels["1.22/stable"] == {"version": "v1.22.3", "rev": "2645"}
    assert channels["latest/candidate"] == {"version": "v1.22.4", "rev": "2693"}
    assert "installed" not in channels
    # The recorded snap list's microk8s row moved to that store's 1.22/candidate channel:
    # installed 3058 against the channel's 2695.
    snap_list = recorded("snap_list_microk8s.txt").replace("1.21/stable", "1.22/candidate")
    data = readings("2026-12-02T00:00:00Z", microk8s=cluster(snap_list=ok(snap_list)))
    channel = line(report(data, microk8s_channel="1.22/candidate"), "channel and revision")
    assert channel["status"] == "amber"
    assert "the channel has 2695" in channel["detail"]


def test_the_refresh_hold_follows_the_notes_column():
    held = doctor.parse_snap_list(recorded("snap_list_held.txt"))
    assert held["checkbox"]["notes"] == "classic,held"
    assert held["checkbox22"]["notes"] == "held"
    # The recorded microk8s row is not held: amber when the inventory holds refreshes.
    result = report(readings("2026-12-02T00:00:00Z"))
    assert line(result, "refresh hold")["status"] == "amber"
    assert "not held" in line(result, "refresh hold")["detail"]
    released = report(readings("2026-12-02T00:00:00Z"), hold_refreshes=False)
    assert line(released, "refresh hold")["status"] == "green"


def test_node_ready_and_not_ready():
    assert line(report(readings("2026-12-02T00:00:00Z")), "node Ready")["status"] == "green"
    nodes = json.loads(recorded("kubectl_get_nodes_ready.json"))
    condition = nodes["items"][0]["status"]["conditions"][0]
    condition.update(status="Unknown", reason="NodeStatusUnknown")
    data = readings("2026-12-02T00:00:00Z", microk8s=cluster(nodes=ok(json.dumps(nodes))))
    node = line(report(data), "node Ready")
    assert node["status"] == "red"
    assert "onebox-1 (NodeStatusUnknown)" in node["detail"]


def test_kubelite_restarts():
    data = readings(
        "2026-12-02T00:00:00Z", microk8s=cluster(kubelite=ok("NRestarts=6\nActiveState=active\n"))
    )
    assert line(report(data), "kubelite restarts")["status"] == "red"
    data["microk8s"]["kubelite"] = ok("NRestarts=0\nActiveState=failed\n")
    assert line(report(data), "kubelite restarts")["status"] == "red"


# --- host ---------------------------------------------------------------------------------------


def test_the_recorded_host_without_swap_is_green():
    result = report(readings("2026-12-02T00:00:00Z"))
    for check in (
        "RAM available",
        "swap in use",
        "memory pressure",
        "earlyoom kills",
        "free disk /",
    ):
        assert line(result, check)["status"] == "green", line(result, check)


def test_swap_in_use_over_its_threshold_is_red():
    meminfo = recorded("proc_meminfo_no_swap.txt")
    meminfo = meminfo.replace("SwapTotal:             0 kB", "SwapTotal:         1048572 kB")
    meminfo = meminfo.replace("SwapFree:              0 kB", "SwapFree:           700000 kB")
    swap = line(report(readings("2026-12-02T00:00:00Z", meminfo=meminfo)), "swap in use")
    assert swap["status"] == "red"
    assert swap["value"] == (1048572 - 700000) // 1024


def test_earlyoom_kills_from_its_journal():
    # earlyoom's README: one "sending SIGTERM to process" line among its status lines.
    journal = recorded("earlyoom_journal.txt")
    assert doctor.count_earlyoom_kills(journal) == 1
    data = readings("2026-12-02T00:00:00Z", earlyoom={"installed": True, "journal": journal})
    assert line(report(data), "earlyoom kills")["status"] == "amber"
    data["earlyoom"] = {"installed": False}
    assert "not installed" in line(report(data), "earlyoom kills")["detail"]


def test_a_full_disk_is_red():
    disks = [
        {
            "path": "/var/backups/onebox",
            "measured": "/var/backups/onebox",
            "total": 4 << 20,
            "free": 0,
        }
    ]
    disk = line(report(readings("2026-12-02T00:00:00Z", disks=disks)), "free disk")
    assert disk["status"] == "red"
    assert disk["value"] == 0


def test_psi_pressure():
    psi = (
        "some avg10=31.00 avg60=22.50 avg300=9.00 total=123\n"
        "full avg10=1.00 avg60=1.00 avg300=0.00 total=5\n"
    )
    pressure = line(report(readings("2026-12-02T00:00:00Z", psi_memory=psi)), "memory pressure")
    assert (pressure["status"], pressure["value"]) == ("red", 22.5)


# --- backups and the budget ---------------------------------------------------------------------


def dump(name: str, when: str) -> dict:
    return {"name": name, "mtime": at(when), "size": 14 << 20}


def test_the_newest_dump_by_time_and_prefix():
    files = [
        dump("onebox-20261130T023000Z.dump", "2026-11-30T02:31:00Z"),
        dump("onebox-20261201T023000Z.dump", "2026-12-01T02:31:00Z"),
        dump("other-20261202T000000Z.dump", "2026-12-02T00:00:00Z"),
    ]
    backups = {"dir": "/var/backups/onebox", "exists": True, "files": files}
    newest = line(report(readings("2026-12-02T00:00:00Z", backups=backups)), "newest dump")
    assert newest["status"] == "green"
    assert newest["value"] == pytest.approx(21.5, abs=0.05)
    assert "onebox-20261201T023000Z.dump" in newest["detail"]
    late = line(report(readings("2026-12-02T06:00:00Z", backups=backups)), "newest dump")
    assert late["status"] == "amber"
    assert (
        line(report(readings("2026-12-04T12:00:00Z", backups=backups)), "newest dump")["status"]
        == "red"
    )


def test_no_dump_and_no_directory_are_red():
    assert line(report(readings("2026-12-02T00:00:00Z")), "newest dump")["status"] == "red"
    missing = {"dir": "/var/backups/onebox", "exists": False, "files": []}
    assert (
        "does not exist"
        in line(report(readings("2026-12-02T00:00:00Z", backups=missing)), "newest dump")["detail"]
    )


def test_the_off_site_line():
    result = report(readings("2026-12-02T00:00:00Z"))
    offsite = line(result, "newest off-site snapshot")
    assert (offsite["status"], offsite["detail"]) == (
        "amber",
        "no off-site copy configured (onebox-offsite is not installed)",
    )
    latest = ok(json.dumps({"id": "4bba301e", "time": "2026-12-01T03:00:00Z"}))
    offsite = line(report(readings("2026-12-02T00:00:00Z", offsite=latest)), "newest off-site")
    assert (offsite["status"], offsite["value"]) == ("green", 21.0)
    failed = {"rc": 1, "stdout": "", "stderr": "Fatal: wrong password or no key found\n"}
    offsite = line(report(readings("2026-12-02T00:00:00Z", offsite=failed)), "newest off-site")
    assert offsite["status"] == "red" and "wrong password" in offsite["detail"]


def test_the_memory_budget_headroom():
    budget = {"total_mib": 2100, "ram_mib": 1963, "headroom_mib": -137}
    headroom = line(report(readings("2026-12-02T00:00:00Z"), memory_budget=budget), "budget")
    assert (headroom["status"], headroom["value"]) == ("red", -137)
    budget = {"total_mib": 1900, "ram_mib": 1963, "headroom_mib": 63}
    assert (
        line(report(readings("2026-12-02T00:00:00Z"), memory_budget=budget), "budget")["status"]
        == "amber"
    )


# --- the report as a whole ----------------------------------------------------------------------


def test_the_report_is_json_and_text_with_one_line_per_check():
    result = report(readings("2017-06-20T21:00:00Z"))
    again = json.loads(json.dumps(result))
    assert again["status"] == "red"
    assert sum(again["counts"].values()) == len(again["lines"])
    assert len(result["text"]) == len(result["lines"]) + 1
    assert result["text"][-1].startswith("RED: ")
    for entry in result["lines"]:
        assert entry["status"] in ("green", "amber", "red")
        assert set(entry) == {"section", "check", "status", "value", "detail", "action"}
        assert (entry["action"] == "") == (entry["status"] == "green"), entry


def test_sections_limit_the_report():
    result = report(readings("2026-12-02T00:00:00Z"), sections=["host"])
    assert {entry["section"] for entry in result["lines"]} == {"host"}


def test_an_inventory_without_a_cluster_is_judged_on_what_it_has():
    """The sandbox renders without a cluster (onebox_kube_apply: false): no MicroK8s, pods,
    certificate or nightly dump can be there, so those are named as not checked, not red."""
    data = readings("2026-12-02T00:00:00Z")
    data["microk8s"] = {"installed": False}
    result = report(data, cluster=False)
    sections = {entry["section"] for entry in result["lines"]}
    assert sections == {"host", "backups", "memory"}
    assert [entry["check"] for entry in result["lines"] if entry["section"] == "backups"] == [
        "newest off-site snapshot"
    ]
    assert result["not_checked"] == ["microk8s", "pods", "certificate", "newest dump"]
    assert "onebox_kube_apply" in result["text"][-1]
    # With a cluster, the same host without MicroK8s is red.
    assert report(data)["status"] == "red"


def test_the_filter_refuses_what_is_not_readings():
    with pytest.raises(Exception, match="doctor_readings.py"):
        doctor.doctor_report({"meminfo": ""}, THRESHOLDS)
    data = copy.deepcopy(readings("2026-12-02T00:00:00Z"))
    assert doctor.doctor_report(data, THRESHOLDS)["time"] == "2026-12-02T00:00:00Z"


def test_the_thresholds_the_role_passes_are_every_threshold_the_filter_reads():
    source = (REPO / "plugins/filter/doctor.py").read_text()
    read = set(re.findall(r'\bt\["(\w+)"\]', source))
    assert read == set(THRESHOLDS)


# --- the readings script, with stand-ins printing the recorded outputs ---------------------------

STUB = """#!/bin/sh
echo "$0 $*" >> {log}
case "$(basename "$0") $*" in
  "snap list microk8s") cat {rec}/snap_list_microk8s.txt ;;
  "snap info microk8s") cat {rec}/snap_info_microk8s_channels.txt ;;
  "microk8s kubectl get nodes --output=json") cat {rec}/kubectl_get_nodes_ready.json ;;
  "microk8s kubectl get pods --all-namespaces --output=json")
    cat {rec}/kubectl_get_pods_mem_example.json ;;
  "microk8s kubectl get certificates.cert-manager.io --namespace onebox --output=json")
    cat {rec}/kubectl_get_certificates_expired.json ;;
  "microk8s kubectl top pods --namespace onebox") cat {rec}/kubectl_top_pods.txt ;;
  "systemctl show"*) printf 'NRestarts=2\\nActiveState=active\\n' ;;
  "systemctl cat earlyoom.service") exit 1 ;;
  "onebox-offsite latest") echo '{{"id": "4bba301e", "time": "2017-06-20T03:00:00Z"}}' ;;
  *) echo "unexpected: $0 $*" >&2; exit 9 ;;
esac
"""


def test_the_readings_script_runs_the_commands_the_filter_reads(tmp_path):
    import os
    import subprocess
    import sys

    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for name in ("snap", "microk8s", "systemctl", "journalctl", "onebox-offsite"):
        stub = bin_dir / name
        stub.write_text(STUB.format(log=log, rec=RECORDED))
        stub.chmod(0o755)
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "onebox-20170620T023000Z.dump").write_bytes(b"x" * 2048)
    config = {
        "disks": ["/"],
        "backup_dir": str(backups),
        "microk8s": str(bin_dir / "microk8s"),
        "snap": str(bin_dir / "snap"),
        "offsite": str(bin_dir / "onebox-offsite"),
    }
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, str(REPO / "roles/doctor/files/doctor_readings.py"), json.dumps(config)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    data = json.loads(done.stdout)
    data["time"] = at("2017-06-20T21:00:00Z")
    result = report(data)
    assert line(result, "channel and revision")["value"] == 3058
    assert line(result, "node Ready")["status"] == "green"
    assert line(result, "kubelite restarts")["value"] == 2
    assert line(result, "OOMKilled")["status"] == "red"
    assert line(result, "pending pods")["value"] == 1
    assert line(result, "memory against limit")["value"] == pytest.approx(77.7, abs=0.05)
    assert line(result, "days left (Certificate): selfsigned-cert")["status"] == "green"
    assert line(result, "newest off-site snapshot")["value"] == 18.0
    assert "earlyoom is not installed" in line(result, "earlyoom kills")["detail"]
    assert "unexpected" not in done.stderr
    calls = log.read_text()
    # Only commands that read: no apply, delete, create, refresh, restart.
    for verb in (" apply", " delete", " create", " refresh", " restart", " set "):
        assert verb not in calls, calls


# --- the preflight: bad thresholds stop the play before anything is read ------------------------


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"doctor_swap_used_amber_mib": 300}, "doctor_swap_used_amber_mib"),
        ({"doctor_cert_days_amber": "20"}, "doctor_cert_days_amber"),
        ({"doctor_sections": ["host", "dns"]}, "doctor_sections"),
    ],
)
def test_bad_thresholds_are_refused_before_any_reading(tmp_path, extra, named):
    import sys

    from conftest import run_playbook

    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "children": {
                        "onebox_primary": {
                            "hosts": {
                                "here": {
                                    "ansible_connection": "local",
                                    "ansible_python_interpreter": sys.executable,
                                }
                            }
                        }
                    }
                }
            }
        )
    )
    result = run_playbook(REPO / "playbooks/doctor.yml", "-i", str(inventory), extra_vars=extra)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert named in output
    assert "Read the host" not in output, "the preflight must stop the play first"
