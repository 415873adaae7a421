"""After rollback.yml the app's manifests on the host name the release before the current one."""

import yaml


def test_deployment_runs_the_previous_image(host):
    deployment = yaml.safe_load(host.file("/etc/onebox/manifests/app/deployment.yaml").content_string)
    images = {c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]}
    assert images == {"onebox-app:0.1.0"}


def test_migration_job_is_for_the_previous_image(host):
    job = yaml.safe_load(host.file("/etc/onebox/manifests/app/migrate-job.yaml").content_string)
    images = {c["image"] for c in job["spec"]["template"]["spec"]["containers"]}
    assert images == {"onebox-app:0.1.0"}


def test_history_is_untouched_without_a_rollout(host):
    # Nothing was applied (no cluster), so nothing new is recorded as deployed.
    history = host.file("/var/lib/onebox/app-releases").content_string.split()
    assert history == ["onebox-app:0.1.0", "onebox-app:0.2.0"]
