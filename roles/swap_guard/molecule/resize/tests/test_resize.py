"""prepare.yml made a 64 MiB swap file; converge grew it to 128 MiB at the same path."""

SWAP = "/srv/host-disk/onebox-swap-guard-resize.swap"
SIZE_MIB = 128


def swap_entries(host) -> list[tuple[str, int]]:
    lines = host.file("/proc/swaps").content_string.splitlines()[1:]
    return [(line.split()[0], int(line.split()[2])) for line in lines]


def test_new_size_is_active_once(host):
    # Exactly one active swap area at the path, at the new size (minus the one-page header).
    assert [size for path, size in swap_entries(host) if path == SWAP] == [SIZE_MIB * 1024 - 4]


def test_file_has_the_new_size_without_holes(host):
    swap = host.file(SWAP)
    assert swap.size == SIZE_MIB * 1024 * 1024
    assert swap.mode == 0o600
    blocks, block_size = host.check_output("stat --format '%%b %%B' %s", SWAP).split()
    assert int(blocks) * int(block_size) >= SIZE_MIB * 1024 * 1024
    assert not host.file(f"{SWAP}.new").exists


def test_fstab_still_has_one_line(host):
    lines = [
        line
        for line in host.file("/etc/fstab").content_string.splitlines()
        if line.split()[:1] == [SWAP]
    ]
    assert lines == [f"{SWAP} none swap sw,nofail 0 0"]
