"""Bad input fails in preflight, before any change, with a message naming the variable."""

import pytest
from conftest import REPO, run_playbook

# The sandbox inventory's settings (not its connection), so every role's preflight has its inputs.
SANDBOX_SETTINGS = [
    arg
    for path in sorted((REPO / "inventories/sandbox/group_vars").glob("*/*.yml"))
    if path.name != "secrets.yml"
    for arg in ("-e", f"@{path}")
]
GOOD_BASE = {"base_admin_ssh_public_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest me@laptop"]}


def preflight(role: str, **overrides):
    return run_playbook(
        REPO / "tests/playbooks/role_preflight.yml",
        "-i",
        "localhost,",
        extra_vars={"preflight_role": role, **overrides},
    )


def test_base_preflight_accepts_good_input():
    result = preflight("base", **GOOD_BASE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"base_firewall_allowed_tcp_ports": ["http"]}, "base_firewall_allowed_tcp_ports"),
        ({"base_ssh_port": 70000}, "base_ssh_port"),
        ({"base_ssh_port": "twenty-two"}, "base_ssh_port"),
        (
            {"base_firewall_allowed_tcp_ports": [80, 443, 16443]},
            "base_firewall_kube_api_allowed_sources",
        ),
        ({"base_admin_ssh_public_keys": []}, "base_admin_ssh_public_keys"),
        ({"base_admin_ssh_public_keys": ["hunter2"]}, "base_admin_ssh_public_keys"),
        ({"base_admin_user": "root"}, "base_admin_user"),
        ({"base_journald_system_max_use": "lots"}, "base_journald_system_max_use"),
        (
            {"base_firewall_kube_api_allowed_sources": ["anywhere"]},
            "base_firewall_kube_api_allowed_sources",
        ),
        ({"base_unattended_upgrades_reboot_time": "4am"}, "base_unattended_upgrades_reboot_time"),
    ],
)
def test_base_preflight_rejects_bad_input(overrides, named):
    result = preflight("base", **{**GOOD_BASE, **overrides})
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert named in output


def test_missing_secret_is_named_before_anything_runs():
    result = run_playbook(
        REPO / "playbooks/preflight.yml",
        "-i",
        str(REPO / "tests/inventory/local.yml"),
        *SANDBOX_SETTINGS,
        extra_vars={**GOOD_BASE, "vault_django_secret_key": "set"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "The secret vault_postgres_password is not set" in output
    assert "vault.yml.example" in output
    assert "vault_django_secret_key is not set" not in output


def test_preflight_playbook_passes_with_secrets_and_good_input():
    result = run_playbook(
        REPO / "playbooks/preflight.yml",
        "-i",
        str(REPO / "tests/inventory/local.yml"),
        *SANDBOX_SETTINGS,
        extra_vars={
            **GOOD_BASE,
            "vault_django_secret_key": "k",
            "vault_postgres_password": "p",
            "vault_ingress_basic_auth_password": "b",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_inventory_without_a_primary_is_refused(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  children:\n    onebox:\n      hosts:\n        localhost:\n"
        "          ansible_connection: local\n"
    )
    result = run_playbook(
        REPO / "playbooks/preflight.yml",
        "-i",
        str(inventory),
        *SANDBOX_SETTINGS,
        extra_vars={**GOOD_BASE, "vault_django_secret_key": "k", "vault_postgres_password": "p"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "onebox_primary" in output
