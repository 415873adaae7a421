"""What a MicroK8s channel brings, for the roles that must agree on it.

- ``"1.36/stable" | microk8s_ingress_controller`` -> ``"traefik"``
- ``"1.34/stable" | microk8s_ingress_controller`` -> ``"nginx"``

MicroK8s 1.35 replaced the NGINX ingress addon by Traefik (canonical/microk8s-core-addons,
branch 1.35: ``addons/ingress/enable`` installs the Traefik Helm chart; branch 1.34 applies
ingress-nginx). The microk8s role enables the addon and the ingress role writes the routes for
the controller the addon runs: both take it from this one rule.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

_TRACK = re.compile(r"^(?P<major>[0-9]+)\.(?P<minor>[0-9]+)(?:-[a-z0-9-]+)?$")
# The first track whose ingress addon is Traefik.
_TRAEFIK_FROM = (1, 35)


def microk8s_ingress_controller(channel: object, name: str = "microk8s_channel") -> str:
    """'traefik' or 'nginx': the controller the ingress addon of ``channel`` runs."""
    if not isinstance(channel, str) or not channel.strip():
        raise AnsibleFilterError(
            f"{name}: {channel!r} is not a MicroK8s channel; write <track>/<risk>, "
            "e.g. 1.36/stable."
        )
    track = channel.strip().split("/")[0]
    if track == "latest":
        return "traefik"
    match = _TRACK.match(track)
    if match is None:
        raise AnsibleFilterError(
            f"{name}: '{channel}' has no version track onebox knows (e.g. 1.36/stable): the "
            "ingress controller it brings cannot be told."
        )
    version = (int(match.group("major")), int(match.group("minor")))
    return "traefik" if version >= _TRAEFIK_FROM else "nginx"


class FilterModule:
    def filters(self) -> dict:
        return {"microk8s_ingress_controller": microk8s_ingress_controller}
