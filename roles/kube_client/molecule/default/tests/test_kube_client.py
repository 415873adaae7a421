"""kube_client on the container: the pinned client in its own virtualenv, the Namespace."""

import yaml

ROOT = "/etc/onebox/manifests/kube_client"
VENV = "/opt/onebox/kube-venv"


def test_client_virtualenv_has_the_pinned_kubernetes_client(host):
    out = host.check_output(
        "%s/bin/python -c 'import kubernetes, kubernetes.dynamic; print(kubernetes.__version__)'",
        VENV,
    )
    assert out == "34.1.0"
    # The system Python is left alone (PEP 668).
    assert host.run("python3 -c 'import kubernetes'").rc != 0


def test_namespace_is_rendered_with_pod_security(host):
    directory = host.file(ROOT)
    assert directory.is_directory and directory.user == "root" and directory.mode == 0o700
    file = host.file(f"{ROOT}/namespace.yaml")
    assert file.mode == 0o644
    namespace = yaml.safe_load(file.content_string)
    assert namespace["kind"] == "Namespace"
    assert namespace["metadata"]["name"] == "onebox-test"
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_the_namespace_denies_incoming_traffic_by_default(host):
    """Where the CNI enforces policies (Calico), only what other policies let in gets in."""
    file = host.file(f"{ROOT}/networkpolicy-default-deny.yaml")
    assert file.mode == 0o644
    policy = yaml.safe_load(file.content_string)
    assert policy["kind"] == "NetworkPolicy"
    assert policy["metadata"]["namespace"] == "onebox-test"
    assert policy["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
