"""Files written whole or not at all: a temporary `.part` name unique to its writer, then one atomic rename.

Two processes writing the same artefact (two runs of a batch, an orphaned pool worker and the run that
resumed after a kill) must never share a temporary file, so each `.part` name carries its writer: the
batch it writes for, the host, the process id and a random token. A kill leaves the `.part` behind; the
next run of the batch removes the ones whose writer is gone (`remove_stale_parts`), and only those.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PART_SUFFIX = ".part"
NO_BATCH = "-"
"""The batch tag of a write that is no batch run's (a reviewer's correction rewriting a PDF/A)."""

# .<final name>.<batch>.<host>.<pid>.<token>.part; the host is reduced to [A-Za-z0-9-] so the dots split.
_TAGGED = re.compile(
    r"^\.(?P<final>.+)\.(?P<batch>[A-Za-z0-9-]+)\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[0-9a-f]{12}\.part$"
)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:63] or "host"


def part_path(final: Path, batch_id: str) -> Path:
    """A hidden temporary name beside `final` (so the rename is atomic), unique to this process and call."""
    tag = re.sub(r"[^A-Za-z0-9-]", "-", batch_id) or NO_BATCH
    return final.with_name(f".{final.name}.{tag}.{_host()}.{os.getpid()}.{uuid.uuid4().hex[:12]}{PART_SUFFIX}")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(part: Path, final: Path) -> None:
    """Make the written `part` the file `final`: its bytes on disk first, then the rename, then the rename too."""
    with part.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(part, final)
    _fsync_dir(final.parent)


def write_bytes_atomically(final: Path, data: bytes, batch_id: str) -> None:
    """Write `data` at `final`; a reader (or a kill) sees the old file or the whole new one, never a torn one."""
    part = part_path(final, batch_id)
    try:
        part.write_bytes(data)
        commit(part, final)
    except BaseException:
        with suppress(OSError):  # the write's own error is the one to report
            part.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class PartOwner:
    """Who wrote a `.part` file, as its name says; None fields for a name written before names were tagged."""

    batch_id: str | None
    host: str | None
    pid: int | None


def owner_of(name: str) -> PartOwner:
    m = _TAGGED.match(name)
    if m is None:
        return PartOwner(None, None, None)
    return PartOwner(m["batch"], m["host"], int(m["pid"]))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def writer_is_gone(owner: PartOwner, batch_is_idle: Callable[[str], bool]) -> bool:
    """Whether the process that wrote a `.part` is certainly no longer writing it.

    On this host the process id answers. A writer on another host (workers sharing the archive over a
    network share) is gone when nothing runs its batch (`batch_is_idle`, which asks the batch lock); a
    part of no batch from another host cannot be judged and stays. An untagged name was written before
    names carried their writer, by a version that no longer runs.
    """
    if owner.host is None or owner.pid is None or owner.batch_id is None:
        return True
    if owner.host == _host():
        return not _pid_alive(owner.pid)
    if owner.batch_id == NO_BATCH:
        return False
    return batch_is_idle(owner.batch_id)


def _parts_under(folder: Path) -> Iterable[Path]:
    if not folder.is_dir():
        return
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            if name.startswith(".") and name.endswith(PART_SUFFIX):
                yield Path(dirpath) / name


def remove_stale_parts(folders: Iterable[Path], batch_is_idle: Callable[[str], bool]) -> list[Path]:
    """Remove every `.part` file under `folders` whose writer is gone (see `writer_is_gone`); returns them."""
    removed = []
    for folder in folders:
        for path in _parts_under(folder):
            if not writer_is_gone(owner_of(path.name), batch_is_idle):
                log.info("keeping %s: its writer is still running", path)
                continue
            try:
                path.unlink()
            except FileNotFoundError:  # its writer finished (renamed it) meanwhile
                continue
            removed.append(path)
            log.warning("removed %s, a partial write left by an interrupted run", path)
    return removed
