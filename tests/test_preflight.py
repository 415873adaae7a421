"""Bad input fails in preflight, before any change, with a message naming the variable."""

import json
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import BIN, REPO, run_playbook
from test_bad_input_catalogue import ED25519

# The sandbox inventory's settings (not its connection), so every role's preflight has its inputs.
SANDBOX_SETTINGS = [
    arg
    for path in sorted((REPO / "inventories/sandbox/group_vars").glob("*/*.yml"))
    if path.name != "secrets.yml"
    for arg in ("-e", f"@{path}")
]
GOOD_BASE = {"base_admin_ssh_public_keys": [ED25519]}


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


# Bad input to base: tests/test_bad_input_catalogue.py (one run for every case).


# The sandbox settings turn basic auth on, so its password is required too.
GOOD_SECRETS = {
    "vault_django_secret_key": "k",
    "vault_postgres_password": "p",
    "vault_ingress_basic_auth_password": "b",
}


def local_preflight(**extra_vars):
    """playbooks/preflight.yml on this machine as the only (primary) host, with the sandbox's
    settings and good base input; extra_vars on top."""
    return run_playbook(
        REPO / "playbooks/preflight.yml",
        "-i",
        str(REPO / "tests/inventory/local.yml"),
        *SANDBOX_SETTINGS,
        extra_vars={**GOOD_BASE, **extra_vars},
    )


def test_missing_secret_is_named_before_anything_runs():
    result = local_preflight(vault_django_secret_key="set", vault_ingress_basic_auth_password="b")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "The secret vault_postgres_password is not set" in output
    assert "vault.yml.example" in output
    assert "vault_django_secret_key is not set" not in output


def test_preflight_playbook_passes_with_secrets_and_good_input():
    result = local_preflight(**GOOD_SECRETS)
    assert result.returncode == 0, result.stdout + result.stderr
    # One node: flannel, and the output says the policies are not enforced (issue 13, item 4).
    assert "NOT enforced: microk8s_ha_cluster is false" in result.stdout


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


def test_preflight_runs_under_any_tag():
    """`site.yml --tags app` with a plan over RAM stops in the preflight (the issue saw changed=3;
    site.yml's import with tags: [always] had already fixed it: this keeps it so, now that the
    preflight imports the roles' checks statically)."""
    result = run_playbook(
        REPO / "site.yml",
        "-i",
        str(REPO / "tests/inventory/local.yml"),
        "--check",
        "--tags",
        "app",
        *SANDBOX_SETTINGS,
        extra_vars={**GOOD_BASE, **GOOD_SECRETS, "memory_budget_ram_mib": 512},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "The memory plan does not fit" in output, output[-3000:]
    assert "Deploy the workloads" not in output


def test_each_role_preflight_tag_runs_its_checks(tmp_path):
    """--tags <role>_preflight runs that role's checks (before: the include ran, its tasks not)."""
    bad = {
        "base": {"base_ssh_port": 70000},
        "kube_client": {"kube_client_namespace": "kube-system"},
        "postgres": {"postgres_image": "postgres:latest"},
        "app": {"app_image": "onebox-app:latest"},
        "ingress": {"ingress_body_limit": "lots"},
    }
    inventory = tmp_path / "hosts.yml"
    hosts = {role: {"ansible_connection": "local", **overrides} for role, overrides in bad.items()}
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    result = run_playbook(
        REPO / "tests/playbooks/role_tags.yml",
        "-i",
        str(inventory),
        "--tags",
        ",".join(f"{role}_preflight" for role in bad),
        *SANDBOX_SETTINGS,
        extra_vars={**GOOD_BASE, **GOOD_SECRETS, "microk8s_channel": "1.34/stable"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    for role, overrides in bad.items():
        assert f"fatal: [{role}]" in output, role
        assert next(iter(overrides)) in output, role


def test_every_include_in_a_role_passes_its_tags_on():
    """An include_tasks tagged x_apply must apply the tag to the tasks it includes, or
    --tags x_apply runs the include and skips everything in it."""
    missing = []
    mains = sorted(REPO.glob("roles/*/tasks/main.yml"))
    assert len(mains) == 12
    for main in mains:
        for task in yaml.safe_load(main.read_text()) or []:
            include = task.get("ansible.builtin.include_tasks")
            if include is None or "tags" not in task:
                continue
            applied = include.get("apply", {}).get("tags") if isinstance(include, dict) else None
            if applied != task["tags"]:
                missing.append(f"{main.relative_to(REPO)}: {task['name']}")
    assert missing == []


def inventories_with(tmp_path: Path, **envs: dict) -> Path:
    """inventories/<env>/hosts.yml (+ group_vars files) under tmp_path; returns inventories/."""
    root = tmp_path / "inventories"
    for env, files in envs.items():
        for name, text in files.items():
            path = root / env / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return root


def hosts_yml(address: str) -> str:
    return (
        "all:\n  children:\n    onebox:\n      children:\n        onebox_primary:\n"
        f"          hosts:\n            vm:\n              ansible_host: {address}\n"
        "              ansible_connection: local\n"
    )


def preflight_in(inventory: Path, *args: str, **extra):
    return run_playbook(
        REPO / "playbooks/preflight.yml",
        "-i",
        str(inventory),
        *args,
        *SANDBOX_SETTINGS,
        extra_vars={
            **GOOD_BASE,
            "ansible_python_interpreter": sys.executable,
            "onebox_sandbox": False,
            **extra,
        },
    )


def test_a_plain_text_vault_is_refused(tmp_path):
    root = inventories_with(
        tmp_path,
        production={
            "hosts.yml": hosts_yml("198.51.100.10"),
            "group_vars/all/vault.yaml": "vault_postgres_password: p\nvault_django_secret_key: k\n",
        },
    )
    result = preflight_in(root / "production")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "group_vars/all/vault.yaml is plain" in output, output[-3000:]
    assert "ansible-vault encrypt" in output


def test_a_secret_that_reads_as_a_template_is_refused(tmp_path):
    password_file = tmp_path / "vault-password"
    password_file.write_text("test\n")
    root = inventories_with(
        tmp_path,
        production={
            "hosts.yml": hosts_yml("198.51.100.10"),
            "group_vars/all/vault.yml": (
                "vault_postgres_password: \"x{{ 7*7 }}\"\nvault_django_secret_key: !unsafe 'a{{b'\n"
            ),
        },
    )
    vault = root / "production/group_vars/all/vault.yml"
    encrypt = subprocess.run(
        [
            str(BIN / "ansible-vault"),
            "encrypt",
            "--vault-password-file",
            str(password_file),
            str(vault),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert encrypt.returncode == 0, encrypt.stderr
    result = preflight_in(
        root / "production",
        "--vault-password-file",
        str(password_file),
        vault_ingress_basic_auth_password="b",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "vault_postgres_password in" in output, output[-3000:]
    assert "!unsafe" in output
    # The secret marked !unsafe is taken as written.
    assert "vault_django_secret_key in" not in output


def test_staging_with_production_address_is_refused(tmp_path):
    root = inventories_with(
        tmp_path,
        production={"hosts.yml": hosts_yml("198.51.100.10")},
        staging={"hosts.yml": hosts_yml("198.51.100.10")},
        sandbox={"hosts.yml": hosts_yml("198.51.100.10")},
    )
    result = preflight_in(root / "staging", **GOOD_SECRETS)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert f"198.51.100.10 is also in {root / 'production'}" in output, output[-3000:]
    assert "is also in " + str(root / "sandbox") not in output


def test_staging_with_production_host_name_is_refused_and_distinct_ones_pass(tmp_path):
    name = "ingress_host: reader.example.org\n"
    root = inventories_with(
        tmp_path,
        production={
            "hosts.yml": hosts_yml("198.51.100.10"),
            "group_vars/onebox/workloads.yml": name,
        },
        staging={"hosts.yml": hosts_yml("198.51.100.20"), "group_vars/onebox/workloads.yml": name},
        other={
            "hosts.yml": hosts_yml("198.51.100.30"),
            "group_vars/onebox/w.yml": "ingress_host: o.example.org\n",
        },
    )
    # (The sandbox settings the test passes with -e set ingress_host; -e outranks the file.)
    clash = preflight_in(root / "staging", **GOOD_SECRETS, ingress_host="reader.example.org")
    output = clash.stdout + clash.stderr
    assert clash.returncode != 0, output[-3000:]
    assert "reader.example.org is also in" in output, output[-3000:]
    alone = preflight_in(
        root / "other", **GOOD_SECRETS, ingress_host="o.example.org", ingress_acme_server="x"
    )
    output = alone.stdout + alone.stderr
    assert alone.returncode == 0, output[-3000:]
    # A misspelt input is named, with the file that lists the real ones.
    assert "unknown variable(s) ingress_acme_server" in output
    assert "roles/ingress/defaults/main.yml" in output


def test_limit_to_a_joiner_without_the_primary_is_refused(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  vars:\n    ansible_connection: local\n  children:\n    onebox:\n      children:\n"
        "        onebox_primary:\n          hosts:\n            node1:\n"
        "        onebox_join:\n          hosts:\n            node2:\n"
    )
    result = preflight_in(inventory, "--limit", "node2", **GOOD_SECRETS, microk8s_ha_cluster=True)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "--limit node2 leaves out the primary node1" in output, output[-3000:]


def test_the_health_check_passes_basic_auth_when_it_is_on(tmp_path):
    """Staging has basic auth: the CI health check must send it (before: a 401 every time)."""
    import base64
    import http.server
    import threading

    expected = "Basic " + base64.b64encode(b"onebox:s3cret").decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.headers.get("Authorization") == expected and self.path == "/readyz"
            self.send_response(200 if ok else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run_playbook(
            REPO / "playbooks/healthcheck.yml",
            "-i",
            str(REPO / "tests/inventory/local.yml"),
            extra_vars={
                "ingress_host": f"127.0.0.1:{server.server_port}",
                "healthcheck_scheme": "http",
                "healthcheck_retries": 0,
                "ingress_cluster_issuer": "letsencrypt-staging",
                "ingress_basic_auth_enabled": True,
                "vault_ingress_basic_auth_password": "s3cret",
            },
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_roles_that_disagree_on_the_database_are_refused():
    """An inventory that sets a role's database input directly, past onebox_database, would
    leave the app's DATABASE_URL pointing at a database PostgreSQL does not have."""
    result = local_preflight(**GOOD_SECRETS, postgres_database="shop")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "app_database_name is onebox but postgres_database is shop" in output
    assert "backup_postgres_database is onebox but postgres_database is shop" in output
    assert "onebox_database" in output
