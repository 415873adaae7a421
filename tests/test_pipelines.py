"""The example CI pipelines are valid for their CI systems, and the deploy script is safe."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

BIN = Path(sys.executable).parent
GITHUB = REPO / "ci/github-actions.yml"
GITLAB = REPO / "ci/gitlab-ci.yml"
DEPLOY = REPO / "ci/deploy.sh"


def tool(name: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    # The venv's bin first: actionlint runs the venv's shellcheck on every `run:` script.
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")
    return subprocess.run(
        [str(BIN / name), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("pipeline", "schema"),
    [(GITHUB, "vendor.github-workflows"), (GITLAB, "vendor.gitlab-ci")],
)
def test_pipeline_matches_the_official_schema(pipeline, schema):
    result = tool("check-jsonschema", "--builtin-schema", schema, str(pipeline))
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_mistake(tmp_path):
    broken = tmp_path / "gitlab-ci.yml"
    broken.write_text(
        GITLAB.read_text().replace("  stage: build\n", "  stage: build\n  when: sometimes\n")
    )
    assert (
        tool("check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(broken)).returncode
        != 0
    )


def test_github_workflow_passes_actionlint():
    result = tool("actionlint", str(GITHUB))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_mistake(tmp_path):
    broken = tmp_path / "workflow.yml"
    broken.write_text(GITHUB.read_text().replace("github.sha }}", "github.shaa }}"))
    result = tool("actionlint", str(broken))
    assert result.returncode != 0
    assert "shaa" in result.stdout


def test_deploy_script_passes_shellcheck():
    result = tool("shellcheck", "--severity=style", str(DEPLOY))
    assert result.returncode == 0, result.stdout


def deploy(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ONEBOX_")}
    # No make on PATH: the script must stop before it sets anything up.
    base["PATH"] = "/nonexistent"
    return subprocess.run(
        [shutil.which("bash"), str(DEPLOY), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_deploy_refuses_without_its_secrets_and_names_them():
    result = deploy(
        "staging", "registry.invalid/team/onebox-app:3f2c1e0", ONEBOX_SSH_PRIVATE_KEY="k"
    )
    assert result.returncode == 2
    assert "refusing to deploy staging" in result.stderr
    assert "ONEBOX_VAULT_PASSWORD" in result.stderr.split("not set")[0]
    assert "ONEBOX_SSH_KNOWN_HOSTS" in result.stderr.split("not set")[0]
    assert "ONEBOX_SSH_PRIVATE_KEY" not in result.stderr.split("not set")[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("qa", "repo/app:1"), "usage"),
        (("production", "repo/app:latest"), "pinned"),
        (("production", "repo/app"), "pinned"),
    ],
)
def test_deploy_rejects_bad_arguments(args, message):
    result = deploy(*args)
    assert result.returncode == 2
    assert message in result.stderr
