"""Bad input to the workload roles fails in their preflight, before any change, with a message
naming the variable to fix."""

from __future__ import annotations

import pytest
from conftest import REPO, run_playbook

MEMORY = {"workloads": {"postgres": "512Mi", "app": "384Mi", "app-migrate": "256Mi"}}
GOOD = {
    "onebox_memory": MEMORY,
    "microk8s_channel": "1.34/stable",
    "vault_postgres_password": "db-password",
    "vault_django_secret_key": "django-key",
    "app_image": "onebox-app:0.1.0",
    "app_allowed_hosts": ["reader.example.org"],
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


def memory(**workloads) -> dict:
    return {"workloads": {**MEMORY["workloads"], **workloads}}


@pytest.mark.parametrize("role", ["kube_client", "postgres", "app", "ingress"])
def test_preflight_accepts_good_input(role):
    result = preflight(role)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize(
    ("role", "overrides", "named"),
    [
        # A body limit that is not a size.
        ("ingress", {"ingress_body_limit": "fifty megabytes"}, "ingress_body_limit"),
        ("ingress", {"ingress_body_limit": "50MB"}, "ingress_body_limit"),
        # A memory limit below the app's measured need (PSS of master + workers, x 1.5).
        ("app", {"onebox_memory": memory(app="128Mi")}, "onebox_memory.workloads.app"),
        ("app", {"app_workers": 8}, "app_memory_limit"),
        ("app", {"app_segmenter": "jieba", "onebox_memory": memory(app="256Mi")}, "jieba"),
        ("app", {"onebox_memory": memory(**{"app-migrate": "64Mi"})}, "app_migrate_memory_limit"),
        ("postgres", {"onebox_memory": memory(postgres="64Mi")}, "workloads.postgres"),
        # A host name that is not a DNS name.
        ("ingress", {"ingress_host": "https://reader.example.org"}, "ingress_host"),
        ("ingress", {"ingress_host": "reader_example"}, "ingress_host"),
        ("app", {"app_allowed_hosts": ["Reader.Example.org:443"]}, "app_allowed_hosts"),
        # A missing vaulted secret.
        ("postgres", {"vault_postgres_password": ""}, "vault_postgres_password"),
        ("app", {"vault_django_secret_key": ""}, "vault_django_secret_key"),
        ("ingress", {"ingress_basic_auth_enabled": True}, "vault_ingress_basic_auth_password"),
        # An image that is not pinned.
        ("app", {"app_image": "onebox-app:latest"}, "app_image"),
        ("app", {"app_image": "onebox-app"}, "app_image"),
        ("postgres", {"postgres_image": "postgres:latest"}, "postgres_image"),
        # More mistakes worth a sentence.
        ("ingress", {"microk8s_channel": "edge"}, "microk8s_channel"),
        (
            "ingress",
            {"ingress_cluster_issuer": "letsencrypt-staging", "ingress_acme_email": ""},
            "ingress_acme_email",
        ),  # fmt: skip
        ("app", {"app_startup_budget_seconds": 60}, "app_startup_budget_seconds"),
        ("app", {"app_extra_env": {"SMTP_PASSWORD": "x"}}, "app_extra_env"),
        ("kube_client", {"kube_client_packages": ["kubernetes"]}, "kube_client_packages"),
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
