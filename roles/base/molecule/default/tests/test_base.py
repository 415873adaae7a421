"""Verify the base role against the real state of the container."""

import pytest

ADMIN = "opsadmin"
KEY = "/root/molecule_admin_key"
SSH_OPTIONS = "-o BatchMode=yes -o StrictHostKeyChecking=no -o ConnectTimeout=5"


def sshd_effective(host) -> dict[str, str]:
    out = host.check_output("sshd -T -C user=%s,host=localhost,addr=127.0.0.1", ADMIN)
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


@pytest.mark.parametrize(
    "package",
    ["acl", "curl", "jq", "sudo", "ufw", "unattended-upgrades", "systemd-timesyncd"],
)
def test_packages_installed(host, package):
    assert host.package(package).is_installed


def test_sshd_effective_settings(host):
    settings = sshd_effective(host)
    assert settings["permitrootlogin"] == "no"
    assert settings["passwordauthentication"] == "no"
    assert settings["kbdinteractiveauthentication"] == "no"
    assert settings["pubkeyauthentication"] == "yes"
    assert settings["port"] == "22"
    assert host.service("ssh").is_running


def test_admin_logs_in_with_key_and_root_cannot(host):
    ssh = f"ssh {SSH_OPTIONS} -i %s %s@127.0.0.1 %s"
    assert host.check_output(ssh, KEY, ADMIN, "id -un") == ADMIN
    assert host.check_output(ssh, KEY, ADMIN, "sudo -n id -un") == "root"
    # Root is refused even with a key that works for the admin.
    host.run("install -d -m 0700 /root/.ssh && cp %s.pub /root/.ssh/authorized_keys", KEY)
    assert host.run(ssh, KEY, "root", "true").rc != 0
    # Password authentication is not even offered.
    offered = host.run(
        f"ssh {SSH_OPTIONS} -o PreferredAuthentications=password %s@127.0.0.1 true",
        ADMIN,
    )
    assert offered.rc != 0
    assert "password" not in offered.stderr.split("Permission denied")[-1]


def test_admin_account(host):
    user = host.user(ADMIN)
    assert user.shell == "/bin/bash"
    assert "sudo" in user.groups
    # Locked password: "L" in passwd -S.
    assert host.check_output("passwd -S %s", ADMIN).split()[1] == "L"
    ssh_dir = host.file(f"/home/{ADMIN}/.ssh")
    assert ssh_dir.mode == 0o700
    assert ssh_dir.user == ADMIN
    keys = host.file(f"/home/{ADMIN}/.ssh/authorized_keys")
    assert keys.mode == 0o600
    assert keys.user == ADMIN
    assert keys.content_string.strip() == host.file(f"{KEY}.pub").content_string.strip()
    sudoers = host.file("/etc/sudoers.d/10-onebox-admin")
    assert sudoers.mode == 0o440
    assert host.run("visudo -c").rc == 0


def test_firewall_loaded(host):
    status = host.check_output("ufw status verbose")
    assert "Status: active" in status
    assert "deny (incoming)" in status
    assert "allow (outgoing)" in status
    rules = host.check_output("ufw status")
    for port in ("22/tcp", "80/tcp", "443/tcp", "8443/tcp"):
        assert port in rules
    assert "16443/tcp                  ALLOW       192.0.2.10" in rules
    assert "16443/tcp                  ALLOW       Anywhere" not in rules
    # The rules are in the kernel, not only in ufw's files.
    kernel = host.check_output("iptables -S ufw-user-input")
    assert "--dport 443 -j ACCEPT" in kernel
    assert "-s 192.0.2.10/32 -p tcp -m tcp --dport 16443 -j ACCEPT" in kernel
    assert host.check_output("iptables -S INPUT").startswith("-P INPUT DROP")


def test_journald_capped(host):
    effective = host.check_output("systemd-analyze cat-config systemd/journald.conf")
    assert "SystemMaxUse=150M" in effective
    assert "RuntimeMaxUse=50M" in effective
    assert host.file("/etc/systemd/journald.conf.d/10-onebox.conf").mode == 0o644


def test_unattended_security_upgrades(host):
    config = host.check_output("apt-config dump")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in config
    assert 'Unattended-Upgrade::Automatic-Reboot "false";' in config
    assert "Debian-Security" in config


def test_time_sync_enabled(host):
    assert host.service("systemd-timesyncd").is_enabled
