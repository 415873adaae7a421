"""The bad-input catalogue: every input a careless operator could give, refused by
playbooks/preflight.yml before anything changes, with a message naming the variable.

Every case is a host of one generated inventory (its host variables are the inputs), run
through the real playbooks/preflight.yml with the shared facts and the wiring
(playbooks/group_vars): one ansible-playbook run checks them all. The host "good" is the
primary and must pass; every other case must fail, and its messages must name the variable.
"""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from conftest import REPO, case_outcomes
from test_preflight_swap_guard import BAD as SWAP_GUARD_BAD
from test_preflight_workloads import profile

# A valid key (ssh-keygen -t ed25519) and keys ssh-keygen refuses or the preflight refuses.
ED25519 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF/MbTmB2jY45zmcuyXHLCvh2rvUw39ufB8KtppSEeYV me@laptop"
)
TRUNCATED = ED25519[:60]
DSA = (
    "ssh-dss AAAAB3NzaC1kc3MAAACBAJRtzOuk7JiEpRJfPGUt6qn99iMu8KIe9F7U8McuNZogp0LaixzYa+K1UHfJw2rp"
    "qJ6BU1KaaUHIn+20aE0BJbwcxCWi72imLGJH9RP3g6d7aXIVAHAYE7O0ZEXKoDu7y0jIS6hIbSyYxGRp5jV0sH1L6F3/"
    "25scjcoSTePkP1clAAAAFQCc3bSNNwK2RY5HLX3qFpEa1RU/GQAAAIAQdxFLYhREKZi4BwabV7dCQhHrLD85eTqYLcXX"
    "+O4wONqy3BGJDASJGXYtTwue6Za5gSp2B0tVXWHKAXXT+CPeskNRG8oy/Ly5euyY1nt9/Jwi9GdftDosvgigU+1U5v+l"
    "JaXrR9JyYTZ+KzvZxwBUzJVt2x5aHDJxZ2J1/Q0IGwAAAIB1XH/xXPTFvkj0OkN4dojEmmMtB1+dRGExXK/38lX0RMgH"
    "OhZ2a/ltV/OO4jn1ZIFwk+xbuvTGn5+19ZIixrTw0crNdAcfoWPNMNKEpATBxgRI+tXfQO7Tpr8Xtjf2tqfYZFj2KJGu"
    "rH8R6wyzFgWJdaeZRMEcxqr6TloD1Ohb0w== old@laptop"
)
SWAP_PATH = str(REPO / ".cache/test-bad-input/swapfile")
OPENSSH_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n"
)
OFFSITE_PASSWORD = {"vault_offsite_password": "repository-password"}
READER = yaml.safe_load((REPO / "app/profile.yml").read_text())["onebox_app"]
CLUSTER = yaml.safe_load((REPO / "playbooks/group_vars/all/cluster.yml").read_text())[
    "onebox_cluster"
]

# Valid input for every role: the shared facts plus what an inventory must set itself.
GOOD = {
    "ansible_connection": "local",
    "ansible_python_interpreter": sys.executable,
    "base_admin_ssh_public_keys": [ED25519],
    "microk8s_channel": "1.34/stable",
    "vault_postgres_password": "db-password",
    "vault_django_secret_key": "django-key",
    "ingress_host": "reader.example.org",
    "ingress_acme_email": "ops@example.org",
    "swap_guard_path": SWAP_PATH,
    "swap_guard_ram_mib": 3915,
    "memory_budget_ram_mib": 3915,
}


def env(**names) -> dict:
    return profile(("env", {**READER["env"], **names}))


# name -> (host variables, the variable the message must name)
BAD: dict[str, tuple[dict, str]] = {
    # --- secrets: blank, whitespace, YAML null -----------------------------------------------
    "secret-db-empty": ({"vault_postgres_password": ""}, "vault_postgres_password"),
    "secret-db-null": ({"vault_postgres_password": None}, "vault_postgres_password"),
    "secret-db-blank": ({"vault_postgres_password": "   "}, "vault_postgres_password"),
    "secret-django-null": ({"vault_django_secret_key": None}, "vault_django_secret_key"),
    "secret-django-tab": ({"vault_django_secret_key": "\t"}, "vault_django_secret_key"),
    "secret-auth-null": (
        {"ingress_basic_auth_enabled": True, "vault_ingress_basic_auth_password": None},
        "vault_ingress_basic_auth_password",
    ),
    "secret-auth-missing": (
        {"ingress_basic_auth_enabled": True},
        "vault_ingress_basic_auth_password",
    ),
    "secret-mail-missing": (
        profile(
            (
                "secret_env",
                {"DJANGO_SECRET_KEY": "vault_django_secret_key", "MAIL_PASSWORD": "vault_mail"},
            )
        ),
        "vault_mail",
    ),
    # --- the Kubernetes API and the cluster's own ports --------------------------------------
    "api-world-v4": (
        {"base_firewall_kube_api_allowed_sources": ["0.0.0.0/0"]},
        "base_firewall_kube_api_allowed_sources",
    ),
    "api-world-v6": (
        {"base_firewall_kube_api_allowed_sources": ["::/0"]},
        "base_firewall_kube_api_allowed_sources",
    ),
    "api-halves": (
        {"base_firewall_kube_api_allowed_sources": ["0.0.0.0/1", "128.0.0.0/1"]},
        "base_firewall_kube_api_allowed_sources",
    ),
    "api-slash-8": (
        {"base_firewall_kube_api_allowed_sources": ["10.0.0.0/8"]},
        "base_firewall_kube_api_allowed_sources",
    ),
    "api-v6-slash-16": (
        {"base_firewall_kube_api_allowed_sources": ["2001::/16"]},
        "base_firewall_kube_api_allowed_sources",
    ),
    "api-prefix-33": (
        {"base_firewall_kube_api_allowed_sources": ["192.0.2.1/33"]},
        "base_firewall_kube_api_allowed_sources",
    ),
    "api-octet-300": (
        {"base_firewall_kube_api_allowed_sources": ["300.0.2.1/32"]},
        "base_firewall_kube_api_allowed_sources",
    ),
    "api-no-prefix": (
        {"base_firewall_kube_api_allowed_sources": ["192.0.2.1"]},
        "base_firewall_kube_api_allowed_sources",
    ),
    "api-port-6443": ({"base_firewall_kube_api_port": 6443}, "base_firewall_kube_api_port"),
    "api-port-moved-16443-open": (
        {"base_firewall_kube_api_port": 6443, "base_firewall_allowed_tcp_ports": [80, 443, 16443]},
        "base_firewall_kube_api_port",
    ),
    "open-kubelet": (
        {"base_firewall_allowed_tcp_ports": [80, 443, 10250]},
        "base_firewall_allowed_tcp_ports",
    ),
    "open-cluster-agent": (
        {"base_firewall_allowed_tcp_ports": [80, 443, 25000]},
        "base_firewall_allowed_tcp_ports",
    ),
    "open-dqlite": (
        {"base_firewall_allowed_tcp_ports": [80, 443, 19001]},
        "base_firewall_allowed_tcp_ports",
    ),
    "open-kubelet-string": (
        {"base_firewall_allowed_tcp_ports": [80, 443, "10250"]},
        "base_firewall_allowed_tcp_ports",
    ),
    "open-udp-vxlan": (
        {"base_firewall_allowed_udp_ports": [4789]},
        "base_firewall_allowed_udp_ports",
    ),
    # --- admin keys, checked by ssh-keygen on the controller ---------------------------------
    "key-truncated": ({"base_admin_ssh_public_keys": [TRUNCATED]}, "base_admin_ssh_public_keys"),
    "key-dss": ({"base_admin_ssh_public_keys": [DSA]}, "base_admin_ssh_public_keys"),
    "key-one-of-two-bad": (
        {"base_admin_ssh_public_keys": [ED25519, TRUNCATED]},
        "base_admin_ssh_public_keys",
    ),
    "key-private": (
        {"base_admin_ssh_public_keys": ["-----BEGIN OPENSSH PRIVATE KEY-----"]},
        "base_admin_ssh_public_keys",
    ),
    "key-fake-body": (
        {"base_admin_ssh_public_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest me@laptop"]},
        "base_admin_ssh_public_keys",
    ),
    "keys-not-a-list": ({"base_admin_ssh_public_keys": ED25519}, "base_admin_ssh_public_keys"),
    # --- the backup directory -----------------------------------------------------------------
    "backup-admin-home": ({"backup_host_dir": "/home/onebox"}, "backup_host_dir"),
    "backup-other-home": ({"backup_host_dir": "/home/debian"}, "backup_host_dir"),
    "backup-root-home": ({"backup_host_dir": "/root"}, "backup_host_dir"),
    "backup-under-root": ({"backup_host_dir": "/root/backups"}, "backup_host_dir"),
    "backup-slash": ({"backup_host_dir": "/"}, "backup_host_dir"),
    "backup-opt": ({"backup_host_dir": "/opt"}, "backup_host_dir"),
    "backup-snap-data": ({"backup_host_dir": "/var/snap"}, "backup_host_dir"),
    "backup-home-trailing": ({"backup_host_dir": "/home/onebox/"}, "backup_host_dir"),
    "backup-dotdot": ({"backup_host_dir": "/var/backups/../../home/onebox"}, "backup_host_dir"),
    # --- the namespace --------------------------------------------------------------------------
    "ns-kube-system": (
        {"onebox_cluster": {**CLUSTER, "namespace": "kube-system"}},
        "onebox_cluster.namespace",
    ),
    "ns-kube-public": (
        {"onebox_cluster": {**CLUSTER, "namespace": "kube-public"}},
        "onebox_cluster.namespace",
    ),
    "ns-node-lease": (
        {"onebox_cluster": {**CLUSTER, "namespace": "kube-node-lease"}},
        "onebox_cluster.namespace",
    ),
    "ns-default": (
        {"onebox_cluster": {**CLUSTER, "namespace": "default"}},
        "onebox_cluster.namespace",
    ),
    "ns-ingress": (
        {"onebox_cluster": {**CLUSTER, "namespace": "ingress"}},
        "onebox_cluster.namespace",
    ),
    "ns-cert-manager": (
        {"onebox_cluster": {**CLUSTER, "namespace": "cert-manager"}},
        "onebox_cluster.namespace",
    ),
    "ns-upper": (
        {"onebox_cluster": {**CLUSTER, "namespace": "Onebox"}},
        "onebox_cluster.namespace",
    ),
    # --- the app's plain environment ----------------------------------------------------------
    "env-db-pass": (env(DB_PASS="hunter2"), "onebox_app.env"),
    "env-passphrase": (env(GPG_PASSPHRASE="x"), "onebox_app.env"),
    "env-api-key": (env(STRIPE_API_KEY="sk_live"), "onebox_app.env"),
    "env-debug-1": (env(DJANGO_DEBUG="1"), "onebox_app.env"),
    "env-debug-true": (env(DJANGO_DEBUG="True"), "onebox_app.env"),
    "env-debug-bool": (env(DJANGO_DEBUG=True), "onebox_app.env"),
    "env-allowed-hosts": (env(DJANGO_ALLOWED_HOSTS="*"), "onebox_app.env"),
    "env-database-url": (env(DATABASE_URL="postgres://u:p@h/d"), "onebox_app.env"),
    "env-sentry-dsn": (env(SENTRY_DSN="https://k@s/1"), "onebox_app.env"),
    "env-smtp-password": (env(SMTP_PASSWORD="x"), "onebox_app.env"),
    "env-nested": (env(OPTIONS={"a": 1}), "onebox_app.env"),
    "env-bad-name": (env(**{"MY-VAR": "x"}), "onebox_app.env"),
    "secret-env-not-vault": (
        profile(("secret_env", {"API_TOKEN": "api_token"})),
        "onebox_app.secret_env",
    ),
    "secret-env-injected": (
        profile(("secret_env", {"DATABASE_URL": "vault_db_url"})),
        "onebox_app.secret_env",
    ),
    # --- host names -------------------------------------------------------------------------
    "allowed-hosts-without-ingress-host": (
        {"app_allowed_hosts": ["www.example.org"]},
        "app_allowed_hosts",
    ),
    "allowed-hosts-empty": ({"app_allowed_hosts": []}, "app_allowed_hosts"),
    "allowed-hosts-port": ({"app_allowed_hosts": ["Reader.Example.org:443"]}, "app_allowed_hosts"),
    "ingress-host-scheme": ({"ingress_host": "https://reader.example.org"}, "ingress_host"),
    "ingress-host-underscore": ({"ingress_host": "reader_example"}, "ingress_host"),
    "ingress-host-empty": ({"ingress_host": ""}, "ingress_host"),
    # --- the ingress ------------------------------------------------------------------------
    "acme-mailto": ({"ingress_acme_email": "mailto:ops@example.org"}, "ingress_acme_email"),
    "acme-empty": ({"ingress_acme_email": ""}, "ingress_acme_email"),
    "acme-no-domain": ({"ingress_acme_email": "ops@localhost"}, "ingress_acme_email"),
    "issuer-unknown": ({"ingress_cluster_issuer": "letsencrypt"}, "ingress_cluster_issuer"),
    "body-limit-words": ({"ingress_body_limit": "fifty megabytes"}, "ingress_body_limit"),
    "body-limit-MB": ({"ingress_body_limit": "50MB"}, "ingress_body_limit"),
    "body-limit-below-import": ({"ingress_body_limit": "10m"}, "ingress_body_limit"),
    "upload-timeout-zero": ({"ingress_upload_timeout": 0}, "ingress_upload_timeout"),
    "auth-user-colon": (
        {
            "ingress_basic_auth_enabled": True,
            "vault_ingress_basic_auth_password": "b",
            "ingress_basic_auth_user": "a:b",
        },
        "ingress_basic_auth_user",
    ),
    "channel-words": ({"microk8s_channel": "edge"}, "microk8s_channel"),
    # --- the app's profile --------------------------------------------------------------------
    "web-memory-below-floor": (
        profile(("processes.web.memory", "128Mi")),
        "onebox_app.processes.web.memory",
    ),
    "web-memory-words": (
        profile(("processes.web.memory", "lots")),
        "onebox_app.processes.web.memory",
    ),
    "web-floor-missing": (profile(("processes.web.memory_floor", None)), "memory_floor"),
    "release-memory-small": (profile(("release_memory", "16Mi")), "onebox_app.release"),
    "profile-key-typo": (profile(("proceses", {})), "proceses"),
    "health-key-typo": (profile(("health.readyness", {"path": "/r"})), "health.readyness"),
    "processes-without-web": (
        profile(("processes", {"worker": {"memory": "1Gi"}})),
        "onebox_app.processes",
    ),
    "liveness-missing": (profile(("health.liveness", None)), "onebox_app.health"),
    "readiness-relative": (profile(("health.readiness", {"path": "readyz"})), "onebox_app.health"),
    "port-too-high": (profile(("port", 70000)), "onebox_app.port"),
    "user-root": (profile(("user", {"uid": 0, "gid": 0})), "onebox_app.user"),
    "name-underscore": (profile(("name", "Reader_App")), "onebox_app.name"),
    "release-no-command": (profile(("release", [{"name": "migrate"}])), "onebox_app.release"),
    "release-string-command": (
        profile(("release", [{"name": "m", "command": "migrate"}])),
        "onebox_app.release",
    ),
    "writable-relative": (
        profile(("writable_paths", [{"path": "tmp", "size": "1Mi"}])),
        "writable_paths",
    ),
    "startup-budget-short": (
        profile(("health.startup_budget_seconds", 60)),
        "startup_budget_seconds",
    ),
    "image-latest": ({"app_image": "onebox-app:latest"}, "app_image"),
    "image-untagged": (profile(("image", "onebox-app")), "app_image"),
    "postgres-image-latest": ({"postgres_image": "postgres:latest"}, "postgres_image"),
    "postgres-memory-small": ({"postgres_memory_limit": "64Mi"}, "postgres_memory_limit"),
    "kube-client-unpinned": ({"kube_client_packages": ["kubernetes"]}, "kube_client_packages"),
    "after-restore-empty": ({"backup_after_restore_commands": []}, "backup_after_restore_commands"),
    "backup-schedule-words": ({"backup_schedule": "nightly"}, "backup_schedule"),
    "backup-keep-zero": ({"backup_keep": 0}, "backup_keep"),
    # --- off-site copies (the inventory's onebox_offsite_repository, the vault) ---------------
    "offsite-no-password": (
        {
            "onebox_offsite_repository": "sftp:onebox@backup.example.net:/srv/restic/onebox",
            "onebox_offsite_sftp_known_hosts": "backup.example.net ssh-ed25519 AAAAC3Nza",
            "vault_offsite_sftp_private_key": OPENSSH_KEY,
        },
        "vault_offsite_password",
    ),
    "offsite-ftp": (
        {"onebox_offsite_repository": "ftp://backup.example.net/onebox", **OFFSITE_PASSWORD},
        "onebox_offsite.repository",
    ),
    "offsite-s3-no-keys": (
        {"onebox_offsite_repository": "s3:https://s3.example.com/bucket", **OFFSITE_PASSWORD},
        "vault_offsite_aws_access_key_id",
    ),
    "offsite-inside-backup-dir": (
        {"onebox_offsite_repository": "/var/backups/onebox/restic", **OFFSITE_PASSWORD},
        "offsite_repository",
    ),
    "offsite-sftp-no-host-key": (
        {
            "onebox_offsite_repository": "sftp:onebox@backup.example.net:/srv/restic/onebox",
            "vault_offsite_sftp_private_key": OPENSSH_KEY,
            **OFFSITE_PASSWORD,
        },
        "offsite_sftp_known_hosts",
    ),
    # --- base -----------------------------------------------------------------------------------
    "tcp-port-name": (
        {"base_firewall_allowed_tcp_ports": ["http"]},
        "base_firewall_allowed_tcp_ports",
    ),
    "ssh-port-high": ({"base_ssh_port": 70000}, "base_ssh_port"),
    "ssh-port-word": ({"base_ssh_port": "twenty-two"}, "base_ssh_port"),
    "api-port-in-open-ports": (
        {"base_firewall_allowed_tcp_ports": [80, 443, 16443]},
        "base_firewall_kube_api_allowed_sources",
    ),
    "keys-empty": ({"base_admin_ssh_public_keys": []}, "base_admin_ssh_public_keys"),
    "key-a-password": ({"base_admin_ssh_public_keys": ["hunter2"]}, "base_admin_ssh_public_keys"),
    "admin-root": ({"base_admin_user": "root"}, "base_admin_user"),
    "journald-words": ({"base_journald_system_max_use": "lots"}, "base_journald_system_max_use"),
    "api-source-word": (
        {"base_firewall_kube_api_allowed_sources": ["anywhere"]},
        "base_firewall_kube_api_allowed_sources",
    ),
    "reboot-time-am": (
        {"base_unattended_upgrades_reboot_time": "4am"},
        "base_unattended_upgrades_reboot_time",
    ),
    # --- MicroK8s -------------------------------------------------------------------------------
    "addon-typo": ({"microk8s_addons": {"dns": True, "cert_manager": True}}, "cert_manager"),
    "addon-not-bool": ({"microk8s_addons": {"dns": "yes please"}}, "microk8s_addons"),
    "channel-latest": ({"microk8s_channel": "latest/stable"}, "microk8s_channel"),
    "kube-reserved-MB": (
        {"microk8s_kubelet_kube_reserved_memory": "640MB"},
        "microk8s_kubelet_kube_reserved_memory",
    ),
    "swap-behavior-unlimited": (
        {"microk8s_kubelet_swap_behavior": "UnlimitedSwap"},
        "microk8s_kubelet_swap_behavior",
    ),
    # --- the memory plan ----------------------------------------------------------------------
    "plan-over-ram": ({"memory_budget_ram_mib": 1024}, "onebox_memory"),
}
# swap_guard's own catalogue runs in tests/test_preflight_swap_guard.py through swap_guard's
# preflight; its first two cases here show the whole preflight runs those checks too (all 23 here
# cost some 40 CPU seconds of `make test`).
BAD |= {f"swap-guard-{name}": case for name, case in list(SWAP_GUARD_BAD.items())[:2]}

# Valid inputs the new checks must not refuse.
ALSO_GOOD = {
    "good-api-office": {
        "base_firewall_kube_api_allowed_sources": ["198.51.100.0/24", "2001:db8::/48"]
    },
    "good-backup-dir": {"backup_host_dir": "/srv/onebox-backups"},
    "good-offsite-b2": {
        "onebox_offsite_repository": "b2:bucket:onebox",
        "vault_offsite_b2_account_id": "id",
        "vault_offsite_b2_account_key": "key",
        **OFFSITE_PASSWORD,
    },
    "good-debug-off": env(DJANGO_DEBUG="0"),
    "good-bypass-name": env(CACHE_BYPASS="1"),
    "good-two-keys": {"base_admin_ssh_public_keys": [ED25519, ED25519.replace("me@laptop", "ci")]},
    "good-fractional-memory": profile(("processes.web.memory", "0.5Gi")),
    "good-allowed-hosts-plus": {
        "app_allowed_hosts": ["reader.example.org", "www.reader.example.org"]
    },
}


@pytest.fixture(scope="session")
def outcomes(tmp_path_factory) -> dict[str, dict]:
    """One preflight run over every case; for each host: failed or not, and its messages."""
    cases = {name: overrides for name, (overrides, _) in BAD.items()} | ALSO_GOOD
    inventory = {
        "all": {
            "vars": GOOD,
            "children": {
                "onebox": {
                    "hosts": cases,
                    "children": {"onebox_primary": {"hosts": {"good": {}}}},
                }
            },
        }
    }
    return case_outcomes(
        REPO / "playbooks/preflight.yml",
        inventory,
        tmp_path_factory.mktemp("catalogue"),
        forks=16,
        timeout=1800,
        facts_from="good",
    )


def test_the_catalogue_holds_at_least_100_distinct_inputs():
    distinct = {json.dumps(overrides, sort_keys=True) for overrides, _ in BAD.values()}
    assert len(distinct) == len(BAD)
    assert len(BAD) >= 100, len(BAD)


@pytest.mark.parametrize("case", ["good", *ALSO_GOOD])
def test_good_input_passes(outcomes, case):
    assert not outcomes[case]["failed"], outcomes[case]["messages"][-5:]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_naming_the_variable(outcomes, case):
    outcome = outcomes[case]
    _, named = BAD[case]
    assert outcome["failed"], outcome["messages"][-3:]
    assert named in " ".join(outcome["messages"]), outcome["messages"][-3:]
