"""Walk a batch folder by its raw names, never following a link and never opening anything.

Every entry is looked at with lstat only. Regular files and folders are what a batch is made of;
links, FIFOs, sockets and devices are reported with the reason they are not read, so nothing in the
folder vanishes without a word.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.ingest.names import name_text
from pipeline.ingest.safe_open import file_type


@dataclass(frozen=True)
class Found:
    """A regular file of the batch, by its raw relative path."""

    rel: bytes
    size: int


@dataclass(frozen=True)
class Refused:
    """An entry that is not read, and why."""

    rel: bytes
    reason: str


def _inside(path: bytes, root: bytes) -> bool:
    return path == root or path.startswith(root.rstrip(b"/") + b"/")


def _link_reason(root: bytes, rel: bytes) -> str:
    """Why a link is not followed: out of the batch, dangling, a loop, or a second name inside the batch."""
    path = os.path.join(root, rel)
    try:
        target = os.readlink(path)
    except OSError as e:
        return f"link cannot be read ({e.strerror})"
    shown = name_text(target)
    try:
        # realpath only reads links and names (lstat, readlink): nothing it passes is opened.
        real = os.path.realpath(path, strict=True)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return f"link loop (-> {shown}); not followed"
        if e.errno == errno.ENOENT:
            return f"dangling link (-> {shown}): its target does not exist"
        return f"link cannot be resolved (-> {shown}: {e.strerror})"
    if not _inside(real, root):
        return f"link leaves the batch folder (-> {name_text(real)}); never opened"
    inside = os.path.relpath(real, root)
    return f"link to {name_text(inside)} inside the batch: a duplicate of it, read there under its own name"


def _listing(root: bytes, rel_dir: bytes) -> list[os.DirEntry[bytes]] | Refused:
    folder = os.path.join(root, rel_dir) if rel_dir else root
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name, reverse=True)
    except OSError as e:
        return Refused(rel_dir, f"folder cannot be read ({e.strerror}); nothing in it was taken")


def walk_batch(root: bytes) -> Iterator[Found | Refused]:
    """Every entry under `root` (a resolved, raw path), depth first in sorted byte order of names.

    An explicit stack, not recursion: a hostile folder may nest deeper than Python's recursion limit.
    """
    top = os.lstat(root)
    seen_dirs: set[tuple[int, int]] = {(top.st_dev, top.st_ino)}
    first = _listing(root, b"")
    if isinstance(first, Refused):
        yield first
        return
    # Each frame: the folder's relative path and its entries still to visit, last-to-first.
    stack: list[tuple[bytes, list[os.DirEntry[bytes]]]] = [(b"", first)]
    while stack:
        rel_dir, pending = stack[-1]
        if not pending:
            stack.pop()
            continue
        entry = pending.pop()
        rel = os.path.join(rel_dir, entry.name) if rel_dir else entry.name
        if entry.name.startswith(b"."):
            what = "folder" if entry.is_dir(follow_symlinks=False) else "entry"
            yield Refused(rel, f"hidden {what} (its name starts with a dot); not read")
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as e:
            yield Refused(rel, f"cannot be examined ({e.strerror})")
            continue
        if stat.S_ISLNK(st.st_mode):
            yield Refused(rel, _link_reason(root, rel))
        elif stat.S_ISDIR(st.st_mode):
            if (st.st_dev, st.st_ino) in seen_dirs:
                yield Refused(rel, "folder seen before under another name (a mount loop); not read twice")
                continue
            seen_dirs.add((st.st_dev, st.st_ino))
            inner = _listing(root, rel)
            if isinstance(inner, Refused):
                yield inner
            else:
                stack.append((rel, inner))
        elif stat.S_ISREG(st.st_mode):
            yield Found(rel, st.st_size)
        else:
            yield Refused(rel, f"not a regular file ({file_type(st.st_mode)}); never opened")
