"""A real ext4 filesystem in a loop-mounted image, for faults a stat cannot see.

`loop_filesystem` makes and mounts one (root only; the test is skipped where
loop mounts are impossible). `LoopFs.rot` flips a byte of a file's data on the
"device" behind the filesystem's back (unmount, edit the image, mount again):
the inode, its times included, is untouched, as with bit rot on a disk.
``inode_size=128`` makes a filesystem that keeps timestamps in whole seconds.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

_BLOCK = 4096


@dataclass
class LoopFs:
    """A mounted image: `image` (the device's bytes) mounted at `mount`."""

    image: Path
    mount: Path

    def rot(self, needle: bytes, offset: int) -> None:
        """Flip the byte `offset` bytes after the block-aligned `needle`, on the device."""
        _run(["umount", str(self.mount)])
        data = bytearray(self.image.read_bytes())
        at = data.find(needle)
        while at >= 0 and at % _BLOCK:
            at = data.find(needle, at + 1)
        assert at >= 0, "the file's first block is not in the image"
        data[at + offset] ^= 0xFF
        self.image.write_bytes(bytes(data))
        _run(["mount", "-o", "loop", str(self.image), str(self.mount)])


@contextmanager
def loop_filesystem(folder: Path, *, inode_size: int = 256, mib: int = 48) -> Iterator[LoopFs]:
    """Make, mount and finally unmount an ext4 image under `folder`."""
    image, mount = folder / "fs.img", folder / "mnt"
    mount.mkdir(parents=True)
    with open(image, "wb") as f:
        f.truncate(mib << 20)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", "-b", str(_BLOCK), "-I", str(inode_size), str(image)],
                          capture_output=True, text=True, check=False)
    if made.returncode:
        pytest.skip(f"mkfs.ext4 failed here: {made.stderr.strip()}")
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mount)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode:
        pytest.skip(f"loop mounts are not possible here: {mounted.stderr.strip()}")
    try:
        yield LoopFs(image, mount)
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def _run(command: list[str]) -> None:
    subprocess.run(command, capture_output=True, text=True, check=True)
