"""Staging and production differ only in data, never in structure.

Every variable (and every key inside a dict-valued variable) that production defines, staging
defines too, in the same group, and the other way round. Secrets are aside: vault.yml is never
in the repository and `vault_*` values are the operator's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import REPO


def key_paths(value, prefix: str) -> set[str]:
    paths = {prefix}
    if isinstance(value, dict):
        for key, inner in value.items():
            paths |= key_paths(inner, f"{prefix}.{key}")
    return paths


def structure(inventory: Path) -> set[str]:
    found: set[str] = set()
    for path in sorted((inventory / "group_vars").rglob("*.yml")):
        group = path.relative_to(inventory / "group_vars").parts[0]
        for name, value in (yaml.safe_load(path.read_text()) or {}).items():
            if not name.startswith("vault_"):
                found |= key_paths(value, f"{group}:{name}")
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())

    def walk(node: dict, group: str) -> None:
        # Host names differ by design; the variables each host sets must not.
        for host_vars in (node.get("hosts") or {}).values():
            found.update(f"{group}:host:{name}" for name in (host_vars or {}))
        for child, child_node in (node.get("children") or {}).items():
            found.add(f"group:{child}")
            walk(child_node or {}, child)

    walk(hosts["all"], "all")
    return found


def test_structure_is_found():
    assert "onebox:onebox_memory.workloads.app" in structure(REPO / "inventories/production")
    assert "onebox:host:ansible_host" in structure(REPO / "inventories/production")


@pytest.mark.parametrize(("left", "right"), [("production", "staging"), ("staging", "production")])
def test_staging_and_production_define_the_same_variables(left, right):
    missing = structure(REPO / "inventories" / left) - structure(REPO / "inventories" / right)
    assert not missing, f"defined in {left} but not in {right}: {sorted(missing)}"


def test_the_checker_sees_a_difference(tmp_path):
    for env, extra in (("a", {}), ("b", {"extra_setting": 1})):
        (tmp_path / env / "group_vars/onebox").mkdir(parents=True)
        (tmp_path / env / "hosts.yml").write_text(
            "all:\n  children:\n    onebox:\n      hosts:\n        h: {}\n"
        )
        (tmp_path / env / "group_vars/onebox/x.yml").write_text(
            yaml.safe_dump({"same": {"k": 1}, **extra})
        )
    assert structure(tmp_path / "b") - structure(tmp_path / "a") == {"onebox:extra_setting"}
