"""Playbooks call only the entry points roles declare (meta/argument_specs.yml), so every way
into a role has its inputs documented and checked, and a role's other task files stay its own."""

from __future__ import annotations

import yaml
from conftest import REPO


def role_calls(node, found: list[tuple[str, str, str]], where: str) -> None:
    """(playbook, role, entry point) of every include_role/import_role under node."""
    if isinstance(node, dict):
        for key in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
            if key in node:
                call = node[key]
                # A role named by the loop variable: each role of the loop.
                names = node["loop"] if "{{" in call["name"] else [call["name"]]
                found += [(where, name, call.get("tasks_from", "main")) for name in names]
        for value in node.values():
            role_calls(value, found, where)
    elif isinstance(node, list):
        for item in node:
            role_calls(item, found, where)


def calls() -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for path in [REPO / "site.yml", *sorted((REPO / "playbooks").glob("*.yml"))]:
        role_calls(yaml.safe_load(path.read_text()), found, path.name)
    return found


def declared(role: str) -> set[str]:
    specs = yaml.safe_load((REPO / "roles" / role / "meta/argument_specs.yml").read_text())
    return set(specs["argument_specs"])


def test_playbooks_call_roles():
    found = calls()
    assert ("render.yml", "app", "render") in found
    assert ("preflight.yml", "base", "preflight") in found
    assert ("rollback.yml", "app", "previous_release") in found
    assert ("run.yml", "app", "run_once") in found
    assert ("run.yml", "memory_budget", "preflight") in found
    assert ("render.yml", "app", "run_render") in found


def test_every_entry_point_a_playbook_calls_is_declared():
    undeclared = [
        f"{playbook}: {role} tasks_from {entry}"
        for playbook, role, entry in calls()
        if entry not in declared(role)
    ]
    assert not undeclared, (
        f"{undeclared}: declare each in the role's meta/argument_specs.yml (its inputs)"
    )
