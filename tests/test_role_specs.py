"""Every role's defaults and its meta/argument_specs.yml say the same thing, and a role's
defaults are plain values that reference nothing outside the role (the playbook wires shared
facts in playbooks/group_vars/all/wiring.yml, never a role default)."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import REPO

ROLES = sorted(path.parent.parent.name for path in REPO.glob("roles/*/defaults/main.yml"))
OTHER_PREFIXES = ("onebox_", "vault_", "groups[", "hostvars")


def load(path):
    return yaml.safe_load(path.read_text()) or {}


def spec_options(role: str) -> dict:
    specs = load(REPO / "roles" / role / "meta/argument_specs.yml")["argument_specs"]
    return specs["main"].get("options") or {}


def test_every_role_is_checked():
    assert len(ROLES) == 12, ROLES


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_specs_name_the_same_inputs(role):
    defaults = set(load(REPO / "roles" / role / "defaults/main.yml"))
    options = set(spec_options(role))
    assert defaults - options == set(), f"roles/{role}: defaults missing from argument_specs"
    assert options - defaults == set(), f"roles/{role}: argument_specs options with no default"


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_equal_the_defaults(role):
    defaults = load(REPO / "roles" / role / "defaults/main.yml")
    for name, option in spec_options(role).items():
        if "default" in option:
            assert option["default"] == defaults[name], f"roles/{role}: {name}"


@pytest.mark.parametrize("role", ROLES)
def test_defaults_reference_nothing_outside_the_role(role):
    role_names = re.compile(rf"\b_{{0,2}}{role}_\w+")
    other_roles = [r for r in ROLES if r != role and not r.startswith(role + "_")]
    for name, value in load(REPO / "roles" / role / "defaults/main.yml").items():
        text = yaml.safe_dump(value)
        for expression in re.findall(r"{{(.*?)}}", text, flags=re.S):
            stripped = role_names.sub("", expression)
            assert not any(prefix in stripped for prefix in OTHER_PREFIXES), (
                f"roles/{role}: {name} reads a shared fact ({expression.strip()}): wire it in "
                "playbooks/group_vars/all/wiring.yml instead"
            )
            for other in other_roles:
                assert not re.search(rf"\b{other}_\w+", stripped), (
                    f"roles/{role}: {name} reads role {other}'s input ({expression.strip()})"
                )


def test_the_checks_see_drift(tmp_path):
    """The comparison itself: a default missing from the spec is found."""
    defaults = {"x_a": 1, "x_b": "{{ onebox_cluster.namespace }}"}
    options = {"x_a": {"default": 2}}
    assert set(defaults) - set(options) == {"x_b"}
    assert options["x_a"]["default"] != defaults["x_a"]
    assert any(p in defaults["x_b"] for p in OTHER_PREFIXES)
