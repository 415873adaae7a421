"""Bad input to the workload roles fails in their preflight, before any change, with a message
naming the variable to fix. The roles get their inputs as in a real run: from the shared facts
and the app's profile through playbooks/group_vars/all/wiring.yml (tests/playbooks/group_vars
is a link to it)."""

from __future__ import annotations

import copy

import pytest
import yaml
from conftest import REPO, run_playbook

READER = yaml.safe_load((REPO / "app/profile.yml").read_text())["onebox_app"]
GOOD = {
    "microk8s_channel": "1.34/stable",
    "vault_postgres_password": "db-password",
    "vault_django_secret_key": "django-key",
    "ingress_host": "reader.example.org",
    "ingress_acme_email": "ops@example.org",
}


def preflight(role: str, **overrides):
    return run_playbook(
        REPO / "tests/playbooks/role_preflight.yml",
        "-i",
        "localhost,",
        extra_vars={**GOOD, "preflight_role": role, **overrides},
    )


def profile(*changes) -> dict:
    """The reader's profile with changes: (path, value) pairs, value None deletes the key."""
    changed = copy.deepcopy(READER)
    for path, value in changes:
        *parents, last = path.split(".")
        node = changed
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return {"onebox_app": changed}


@pytest.mark.parametrize("role", ["kube_client", "postgres", "app", "ingress", "backup"])
def test_preflight_accepts_good_input(role):
    result = preflight(role)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_a_fractional_quantity_is_a_quantity():
    """1.5Gi passes the memory budget; the app's preflight reads it with the same parser."""
    result = preflight("app", **profile(("processes.web.memory", "1.5Gi")))
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(
    ("role", "overrides", "named"),
    [
        # A body limit that is not a size.
        ("ingress", {"ingress_body_limit": "fifty megabytes"}, "ingress_body_limit"),
        ("ingress", {"ingress_body_limit": "50MB"}, "ingress_body_limit"),
        # A memory limit below the process's measured floor.
        ("app", profile(("processes.web.memory", "128Mi")), "onebox_app.processes.web.memory"),
        ("app", profile(("processes.web.memory", "lots")), "onebox_app.processes.web.memory"),
        ("app", profile(("processes.web.memory_floor", None)), "memory_floor"),
        ("app", profile(("release_memory", "16Mi")), "onebox_app.release"),
        ("postgres", {"postgres_memory_limit": "64Mi"}, "postgres_memory_limit"),
        # The profile's shape.
        ("app", profile(("proceses", {})), "proceses"),
        ("app", profile(("health.readyness", {"path": "/r"})), "health.readyness"),
        ("app", profile(("processes", {"worker": {"memory": "1Gi"}})), "onebox_app.processes"),
        ("app", profile(("health.liveness", None)), "onebox_app.health"),
        ("app", profile(("health.readiness", {"path": "readyz"})), "onebox_app.health"),
        ("app", profile(("port", 70000)), "onebox_app.port"),
        ("app", profile(("user", {"uid": 0, "gid": 0})), "onebox_app.user"),
        ("app", profile(("name", "Reader_App")), "onebox_app.name"),
        ("app", profile(("release", [{"name": "migrate"}])), "onebox_app.release"),
        ("app", profile(("release", [{"name": "m", "command": "migrate"}])), "onebox_app.release"),
        ("app", profile(("writable_paths", [{"path": "tmp", "size": "1Mi"}])), "writable_paths"),
        ("app", profile(("health.startup_budget_seconds", 60)), "startup_budget_seconds"),
        # Secrets in the plain environment, and names onebox sets itself.
        ("app", profile(("env", {"SMTP_PASSWORD": "x"})), "onebox_app.env"),
        ("app", profile(("env", {"SENTRY_DSN": "https://k@s/1"})), "onebox_app.env"),
        ("app", profile(("env", {"DATABASE_URL": "postgres://x"})), "onebox_app.env"),
        ("app", profile(("secret_env", {"API_TOKEN": "api_token"})), "onebox_app.secret_env"),
        # A host name that is not a DNS name.
        ("ingress", {"ingress_host": "https://reader.example.org"}, "ingress_host"),
        ("ingress", {"ingress_host": "reader_example"}, "ingress_host"),
        ("app", {"app_allowed_hosts": ["Reader.Example.org:443"]}, "app_allowed_hosts"),
        # A missing vaulted secret, the database's or one the profile names.
        ("postgres", {"vault_postgres_password": ""}, "vault_postgres_password"),
        ("app", {"vault_django_secret_key": ""}, "vault_django_secret_key"),
        (
            "app",
            profile(
                (
                    "secret_env",
                    {
                        "DJANGO_SECRET_KEY": "vault_django_secret_key",
                        "MAIL_PASSWORD": "vault_mail_password",
                    },
                )
            ),
            "vault_mail_password",
        ),  # fmt: skip
        ("ingress", {"ingress_basic_auth_enabled": True}, "vault_ingress_basic_auth_password"),
        # An image that is not pinned.
        ("app", {"app_image": "onebox-app:latest"}, "app_image"),
        ("app", profile(("image", "onebox-app")), "app_image"),
        ("postgres", {"postgres_image": "postgres:latest"}, "postgres_image"),
        ("backup", {"backup_after_restore_commands": []}, "backup_after_restore_commands"),
        # More mistakes worth a sentence.
        ("ingress", {"microk8s_channel": "edge"}, "microk8s_channel"),
        (
            "ingress",
            {"ingress_cluster_issuer": "letsencrypt-staging", "ingress_acme_email": ""},
            "ingress_acme_email",
        ),  # fmt: skip
        ("kube_client", {"kube_client_packages": ["kubernetes"]}, "kube_client_packages"),
        # Applying needs the cluster's access (the role defaults hold no copy of it).
        ("app", {"app_kubeconfig": ""}, "app_kubeconfig"),
        ("postgres", {"postgres_kube_python": ""}, "postgres_kube_python"),
        ("kube_client", {"kube_client_kubeconfig": ""}, "kube_client_kubeconfig"),
    ],
)
def test_preflight_rejects_bad_input(role, overrides, named):
    result = preflight(role, **overrides)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert named in output, output[-3000:]


def test_bad_input_stops_render_before_anything_is_written(tmp_path):
    out = tmp_path / "manifests"
    result = run_playbook(
        REPO / "playbooks/render.yml",
        "-i",
        str(REPO / "inventories/production"),
        extra_vars={
            "onebox_render_dir": str(out),
            "microk8s_channel": "1.34/stable",
            "ingress_body_limit": "lots",
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "ingress_body_limit" in output
    assert not out.exists()
