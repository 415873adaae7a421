"""`microk8s enable` / `disable` and what `status` reports for an addon
(canonical/microk8s-core-addons: addons.yaml `check_status`, addons/<name>/enable|disable)."""

from __future__ import annotations

import re

from common import data_dir, fail, offline, positional, track_of

# core-addons addons.yaml (branch 1.35 / main). dashboard was removed from main (1.36) by
# commit 1824e87 "feat: remove dashboard addon".
ADDONS = {
    "cert-manager": "Cloud native certificate management",
    "dashboard": "The Kubernetes dashboard",
    "dns": "CoreDNS",
    "ha-cluster": "Configure high availability on the current node",
    "helm": "Helm - the package manager for Kubernetes",
    "helm3": "Helm 3 - the package manager for Kubernetes",
    "hostpath-storage": "Storage class; allocates storage from host directory",
    "ingress": "Ingress controller for external access",
    "metrics-server": "K8s Metrics Server for API access to service metrics",
    "rbac": "Role-Based Access Control for authorisation",
    "registry": "Private image registry exposed on localhost:32000",
}

# addons/ingress/enable, CHART_VERSION: 1.35 branch "37.4.0", main (1.36) "39.0.8".
TRAEFIK_CHART = {(1, 35): "37.4.0", (1, 36): "39.0.8"}
NGINX_DAEMONSET = "daemonset/ingress/nginx-ingress-microk8s-controller"
# addons/ingress/values.yaml (1.35+): the values the addon passes with --values, which helm
# keeps as user-supplied values (what `helm get values` prints).
TRAEFIK_VALUES = {
    "deployment": {"kind": "DaemonSet"},
    "ports": {
        "web": {"port": 8000, "exposedPort": 80, "hostPort": 80, "protocol": "TCP"},
        "websecure": {"port": 8443, "exposedPort": 443, "hostPort": 443, "protocol": "TCP"},
    },
    "ingressRoute": {
        "dashboard": {
            "enabled": True,
            "matchRule": "Host(`dashboard.localhost`)",
            "entryPoints": ["web"],
        }
    },
    "ingressClass": {"enabled": True, "isDefaultClass": False, "name": "traefik"},
}


def traefik_era(state: dict) -> bool:
    """1.35 replaced the NGINX ingress addon with Traefik."""
    return track_of(state) >= (1, 35)


def addon_catalog(state: dict) -> dict[str, str]:
    catalog = dict(ADDONS)
    if track_of(state) >= (1, 36):
        del catalog["dashboard"]
    return catalog


def addon_enabled(state: dict, name: str) -> bool:
    if name == "ingress":
        # addons.yaml check_status: 1.35+ "ingressclass.networking.k8s.io/public" (which the old
        # NGINX addon created too); 1.34 "pod/nginx-ingress-microk8s-controller".
        wanted = "ingressclass/public" if traefik_era(state) else NGINX_DAEMONSET
        return wanted in state["resources"]
    if name == "ha-cluster":
        return state["ha"]
    return bool(state["addons"].get(name))


def add(state: dict, *resources: str) -> None:
    for resource in resources:
        if resource not in state["resources"]:
            state["resources"].append(resource)


def drop(state: dict, *resources: str) -> None:
    state["resources"] = [r for r in state["resources"] if r not in resources]


def set_kubelet_flag(state: dict, flag: str, value: str) -> None:
    """What addon scripts do to the args file: add a flag when it is missing."""
    path = data_dir(state) / "args" / "kubelet"
    lines = path.read_text().splitlines()
    if not any(re.match(rf"^\s*{re.escape(flag)}(=|\s|$)", line) for line in lines):
        lines.append(f"{flag}={value}")
        path.write_text("\n".join(lines) + "\n")


def enable_ingress(state: dict) -> int:
    if not traefik_era(state):
        # 1.34 addons/ingress/enable: kubectl apply of the addon's own NGINX manifest.
        add(state, NGINX_DAEMONSET, "ingressclass/public", "ingressclass/nginx")
        print("Ingress is enabled")
        return 0
    # 1.35+ addons/ingress/enable (set -e): `helm repo add traefik https://traefik.github.io/charts`
    # then the Gateway API CRDs from github.com: nothing works without the network.
    if offline():
        print("Adding Traefik Helm repository")
        return fail(
            'Error: looks like "https://traefik.github.io/charts" is not a valid chart repository '
            "or cannot be reached: dial tcp: lookup traefik.github.io: no such host"
        )
    chart = TRAEFIK_CHART.get(track_of(state), "39.0.8")
    add(state, "crd/gateways.gateway.networking.k8s.io", "crd/ingressroutes.traefik.io")
    add(state, "ingressclass/public", "ingressclass/nginx", "ingressclass/traefik")
    state["helm"]["traefik"] = {"namespace": "ingress", "chart": chart, "values": TRAEFIK_VALUES}
    print("Installing Traefik ingress controller")
    return 0


def disable_ingress(state: dict) -> None:
    if traefik_era(state):
        # 1.35+ addons/ingress/disable: legacy nginx-ingress resources too, then Traefik.
        drop(state, NGINX_DAEMONSET, "ingressclass/nginx", "ingressclass/public")
        drop(state, "ingressclass/traefik", "crd/ingressroutes.traefik.io")
        drop(state, "crd/gateways.gateway.networking.k8s.io")
        state["helm"].pop("traefik", None)
    else:
        drop(state, NGINX_DAEMONSET, "ingressclass/public", "ingressclass/nginx")
    print("Ingress is disabled")


def enable(state: dict, argv: list[str]) -> int:
    catalog = addon_catalog(state)
    for name in positional(argv):
        if name not in catalog:
            return fail(f"Addon {name} was not found in any repository")
        if addon_enabled(state, name):
            print(f"Addon core/{name} is already enabled")
            continue
        if name == "ingress":
            code = enable_ingress(state)
            if code:
                return code
            continue
        if name == "cert-manager" and offline():
            # addons/cert-manager/enable: `helm repo add jetstack https://charts.jetstack.io`.
            return fail('Error: looks like "https://charts.jetstack.io" cannot be reached')
        if name == "ha-cluster":
            state["ha"] = True
        if name == "dns":
            # The dns addon points the kubelet at CoreDNS by editing the args file.
            set_kubelet_flag(state, "--cluster-domain", "cluster.local")
            set_kubelet_flag(state, "--cluster-dns", "10.152.183.10")
        state["addons"][name] = True
        print(f"Addon core/{name} is enabled")
    return 0


def disable(state: dict, argv: list[str]) -> int:
    catalog = addon_catalog(state)
    for name in positional(argv):
        if name not in catalog:
            return fail(f"Addon {name} was not found in any repository")
        if name == "ingress":
            disable_ingress(state)
            continue
        if name == "ha-cluster":
            if len(state["nodes"]) == 1 and "--force" not in argv:
                print("Disabling HA will reset your cluster in a clean state.")
                print("please use the '--force' flag.")
                return 2
            state["ha"] = False
            state["addons"] = {}
            state["resources"] = []
            state["helm"] = {}
        state["addons"][name] = False
        print(f"Addon core/{name} is disabled")
    return 0
