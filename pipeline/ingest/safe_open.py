"""Open a file of the batch without ever leaving the batch folder.

A scanner share is untrusted: between discovery and reading, a file or a folder on the way to it may
be replaced by a link out of the batch or by a FIFO. Every component is opened relative to the one
before with O_NOFOLLOW, so no link is followed; the file itself is checked to be a regular file before
it is opened (opening a device or a FIFO can have effects of its own) and again after, on the open
descriptor, so what is read is what was checked.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from pipeline.errors import UnsupportedFileError
from pipeline.ingest.names import name_text

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def file_type(mode: int) -> str:
    """What an entry that is not a regular file or folder is, in words."""
    for test, name in (
        (stat.S_ISLNK, "a link"),
        (stat.S_ISFIFO, "a FIFO, a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _refuse(rel: bytes, reason: str) -> UnsupportedFileError:
    return UnsupportedFileError(name_text(rel), reason)


def open_in_batch(root: Path, rel: bytes) -> BinaryIO:
    """Open `rel` (raw bytes, relative to `root`) for reading; raise UnsupportedFileError on anything else
    than a regular file reached without a link."""
    parts = [p for p in rel.split(b"/") if p not in (b"", b".")]
    if not parts or b".." in parts:
        raise _refuse(rel, "path is not inside the batch folder")
    dir_fd = os.open(os.fsencode(root), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _refuse(rel, "a folder on its path is now a link or not a folder; not followed") from e
                raise
            os.close(dir_fd)
            dir_fd = next_fd
        before = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)
        if not stat.S_ISREG(before.st_mode):
            raise _refuse(rel, f"not a regular file ({file_type(before.st_mode)}); never opened")
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dir_fd)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise _refuse(rel, "became a link while it was read; not followed") from e
            raise
    finally:
        os.close(dir_fd)
    after = os.fstat(fd)
    if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise _refuse(rel, "was replaced while it was opened; never read")
    # Reads block as usual from here on: O_NONBLOCK only kept the open itself from waiting on a FIFO.
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def split_path(path: Path) -> tuple[Path, bytes]:
    """(folder, raw name) of a path given on its own, for callers outside a batch run."""
    raw = os.fsencode(path)
    head, _, tail = raw.rpartition(b"/")
    return Path(os.fsdecode(head or b"/")) if head or raw.startswith(b"/") else Path("."), tail
