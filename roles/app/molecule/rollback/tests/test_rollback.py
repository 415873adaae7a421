"""After rollback.yml the app's manifests on the host name the release before the current one."""

import yaml

MANIFESTS = "/etc/onebox/manifests/app"


def images_in(host, manifest: str) -> set[str]:
    document = yaml.safe_load(host.file(f"{MANIFESTS}/{manifest}").content_string)
    return {c["image"] for c in document["spec"]["template"]["spec"]["containers"]}


def test_deployment_runs_the_previous_image(host):
    assert images_in(host, "deployment-web.yaml") == {"onebox-app:0.1.0"}


def test_release_job_is_for_the_previous_image(host):
    assert images_in(host, "release-job.yaml") == {"onebox-app:0.1.0"}


def test_history_is_untouched_without_a_rollout(host):
    # Nothing was applied (no cluster), so nothing new is recorded as deployed.
    history = host.file("/var/lib/onebox/app-releases").content_string.split()
    assert history == ["onebox-app:0.1.0", "onebox-app:0.2.0"]
