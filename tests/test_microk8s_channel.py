"""The one rule for which ingress controller a MicroK8s channel brings."""

import pytest
from ansible.errors import AnsibleFilterError
from conftest import filter_plugin

microk8s_ingress_controller = filter_plugin("microk8s_channel").microk8s_ingress_controller


@pytest.mark.parametrize(
    ("channel", "controller"),
    [
        ("1.34/stable", "nginx"),
        ("1.28/edge", "nginx"),
        ("1.35/stable", "traefik"),
        ("1.36/stable", "traefik"),
        ("1.36-strict/stable", "traefik"),
        ("latest/edge", "traefik"),
        ("2.0/stable", "traefik"),
    ],
)
def test_controller_follows_the_track(channel, controller):
    assert microk8s_ingress_controller(channel) == controller


@pytest.mark.parametrize("channel", ["", None, "stable", "one.two/stable", 1.36])
def test_a_channel_without_a_track_is_refused_by_name(channel):
    with pytest.raises(AnsibleFilterError, match="microk8s_channel"):
        microk8s_ingress_controller(channel)
