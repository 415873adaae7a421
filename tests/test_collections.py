"""requirements.yml pins the same collections the pinned `ansible` package bundles."""

import json
import re
from importlib import metadata
from pathlib import Path

import ansible_collections
import yaml
from conftest import REPO


def installed_collection_version(fqcn: str) -> str:
    namespace, name = fqcn.split(".")
    root = Path(next(iter(ansible_collections.__path__)))
    manifest = json.loads((root / namespace / name / "MANIFEST.json").read_text())
    return manifest["collection_info"]["version"]


def test_requirements_yml_matches_the_ansible_package():
    pinned = yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]
    assert pinned, "requirements.yml lists no collections"
    mismatches = {
        item["name"]: (item["version"], installed_collection_version(item["name"]))
        for item in pinned
        if str(item["version"]) != installed_collection_version(item["name"])
    }
    assert not mismatches, f"requirements.yml (pinned, bundled) disagree: {mismatches}"


def test_ansible_package_is_the_pinned_one():
    requirements = (REPO / "requirements.txt").read_text()
    pinned = re.search(r"^ansible==(\S+)", requirements, re.M).group(1)
    assert metadata.version("ansible") == pinned


def test_every_collection_used_is_pinned():
    pinned = {
        item["name"]
        for item in yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]
    }
    used = set()
    for path in [
        *REPO.glob("roles/**/*.yml"),
        *REPO.glob("playbooks/*.yml"),
        *REPO.glob("molecule/**/*.yml"),
    ]:
        for match in re.finditer(r"^\s*-?\s*([a-z_]+\.[a-z_]+)\.[a-z_]+:", path.read_text(), re.M):
            if match.group(1) != "ansible.builtin":
                used.add(match.group(1))
    assert used, "no collection modules found: the scan is broken"
    assert used <= pinned, f"used but not pinned in requirements.yml: {sorted(used - pinned)}"
