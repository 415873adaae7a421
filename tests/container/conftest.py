"""The container test's fixtures: each profile's images built once per session, its stack
started once, and everything removed at the end, also when a test fails."""

from pathlib import Path

import pytest
from profile_stack import REPO, Images, Stack, sh


@pytest.fixture(scope="session")
def stacks():
    """stacks(profile_path) -> the running Stack of that profile (started on first use)."""
    # No engine is a failure, not a skip: the harness starts one or says why it cannot.
    sh("python3", str(REPO / "molecule" / "harness" / "harness.py"), "engine")
    images: dict[Path, Images] = {}
    running: dict[Path, Stack] = {}

    def get(profile_path: Path) -> Stack:
        if profile_path not in running:
            if not profile_path.exists():
                raise AssertionError(f"{profile_path} is missing")
            if profile_path not in images:
                images[profile_path] = Images(profile_path)
                images[profile_path].build()
            stack = Stack(profile_path, images[profile_path])
            running[profile_path] = stack
            stack.start()
        return running[profile_path]

    try:
        yield get
    finally:
        for stack in running.values():
            stack.remove()
        for built in images.values():
            built.remove()
