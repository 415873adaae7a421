"""Staging and production differ only in data, never in structure, and only in the data that is
meant to differ.

Every variable (and every key inside a dict-valued variable) that production defines, staging
defines too, in the same group, and the other way round; and every value is the same, except
the environment's own data below (host, domain, issuer, sizes, schedule, who gets in). What
both share lives once, in playbooks/group_vars/all/. Secrets are aside: vault.yml is never in
the repository and `vault_*` values are the operator's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import REPO

# Data an environment sets for itself: these may (and mostly do) differ.
OWN_DATA = {
    "onebox:ingress_host",
    "onebox:ingress_cluster_issuer",
    "onebox:ingress_acme_email",
    "onebox:ingress_basic_auth_enabled",
    "onebox:postgres_storage_size",
    "onebox:backup_schedule",
    "onebox:backup_keep",
    # Each environment copies its dumps to its own off-site repository.
    "onebox:onebox_offsite_repository",
    "onebox:onebox_offsite_sftp_known_hosts",
    "onebox:base_admin_ssh_public_keys",
    "onebox:base_firewall_kube_api_allowed_sources",
    # An upgrade goes to staging first (playbooks/upgrade.yml).
    "onebox:microk8s_channel",
    # A VM of another size has another plan.
    "onebox:onebox_memory",
    "onebox_primary:host:ansible_host",
}


def key_paths(value, prefix: str) -> dict[str, object]:
    """Every key path in a variable, with the value at its leaves."""
    if isinstance(value, dict) and value:
        paths: dict[str, object] = {}
        for key, inner in value.items():
            paths.update(key_paths(inner, f"{prefix}.{key}"))
        return paths
    return {prefix: value}


def variables(inventory: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    for path in sorted((inventory / "group_vars").rglob("*.yml")):
        group = path.relative_to(inventory / "group_vars").parts[0]
        for name, value in (yaml.safe_load(path.read_text()) or {}).items():
            if not name.startswith("vault_"):
                found.update(key_paths(value, f"{group}:{name}"))
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())

    def walk(node: dict, group: str) -> None:
        # Host names differ by design; the variables each host sets must not.
        for host_vars in (node.get("hosts") or {}).values():
            found.update({f"{group}:host:{name}": v for name, v in (host_vars or {}).items()})
        for child, child_node in (node.get("children") or {}).items():
            found[f"group:{child}"] = True
            walk(child_node or {}, child)

    walk(hosts["all"], "all")
    return found


def own_data(path: str) -> bool:
    return any(path == name or path.startswith(name + ".") for name in OWN_DATA)


def test_variables_are_found():
    found = variables(REPO / "inventories/production")
    assert "onebox:ingress_host" in found
    assert "onebox_primary:host:ansible_host" in found
    assert "group:onebox_primary" in found


@pytest.mark.parametrize(("left", "right"), [("production", "staging"), ("staging", "production")])
def test_staging_and_production_define_the_same_variables(left, right):
    missing = set(variables(REPO / "inventories" / left)) - set(
        variables(REPO / "inventories" / right)
    )
    assert not missing, f"defined in {left} but not in {right}: {sorted(missing)}"


def test_staging_and_production_agree_on_everything_but_their_own_data():
    production = variables(REPO / "inventories/production")
    staging = variables(REPO / "inventories/staging")
    differ = {
        path: (production[path], staging[path])
        for path in production.keys() & staging.keys()
        if production[path] != staging[path] and not own_data(path)
    }
    assert not differ, (
        f"staging and production differ in {differ}: a value both need belongs once in "
        "playbooks/group_vars/all/; a value meant to differ belongs in OWN_DATA here"
    )


def test_the_checker_sees_a_difference(tmp_path):
    for env, extra in (("a", {"knob": 1}), ("b", {"knob": 2, "extra_setting": 1})):
        (tmp_path / env / "group_vars/onebox").mkdir(parents=True)
        (tmp_path / env / "hosts.yml").write_text(
            "all:\n  children:\n    onebox:\n      hosts:\n        h: {}\n"
        )
        (tmp_path / env / "group_vars/onebox/x.yml").write_text(
            yaml.safe_dump({"same": {"k": 1}, **extra})
        )
    a, b = variables(tmp_path / "a"), variables(tmp_path / "b")
    assert set(b) - set(a) == {"onebox:extra_setting"}
    assert {p for p in a.keys() & b.keys() if a[p] != b[p] and not own_data(p)} == {"onebox:knob"}
