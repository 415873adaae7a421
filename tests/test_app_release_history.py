"""The app role's release history: what rollback.yml goes back to."""

from conftest import REPO, run_playbook

PLAYBOOK = REPO / "tests/playbooks/app_release.yml"


def release(tasks: str, history, **extra):
    return run_playbook(
        PLAYBOOK,
        "-i",
        "localhost,",
        extra_vars={"release_tasks": tasks, "app_release_history_file": str(history), **extra},
    )


def test_a_deploy_is_recorded_once_and_the_history_is_capped(tmp_path):
    history = tmp_path / "lib/app-releases"
    for image in ["app:1", "app:2", "app:2", "app:3"]:
        result = release("record_release", history, app_image=image, app_release_history_keep=2)
        assert result.returncode == 0, result.stdout + result.stderr
    assert history.read_text() == "app:2\napp:3\n"


def test_rollback_picks_the_image_before_the_current_one(tmp_path):
    history = tmp_path / "app-releases"
    history.write_text("app:1\napp:2\napp:3\n")
    # No app_image given: an extra var would outrank the fact the task sets.
    result = release("previous_release", history)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Rolling back localhost from app:3 to app:2" in result.stdout
    assert "app_image is app:2" in result.stdout


def test_rollback_refuses_without_an_earlier_release(tmp_path):
    history = tmp_path / "app-releases"
    history.write_text("app:1\n")
    result = release("previous_release", history)
    assert result.returncode != 0
    assert "No earlier release to roll back to" in result.stdout
    assert "app_image" in result.stdout
