"""Reading the files a user names: specs and baselines are regular files of at most MAX_FILE_BYTES.

Anything else is refused before a byte is read: a directory, a FIFO (opened without
blocking, so a pipe with no writer cannot hang the command), a device such as
/dev/zero (which would be read until memory runs out), a file larger than the limit.
Every failure is the caller's error class with a one-line reason; never an OSError.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import FlopcountError

MAX_FILE_BYTES = 32 * 2**20  # 32 MiB: a spec of 100,000 layers written out flat, or a baseline of hundreds of specs

# no blocking on a FIFO without a writer, no controlling terminal from a tty, not inherited, bytes as they are (Windows)
_OPEN_FLAGS = 0
for _flag in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_BINARY"):
    _OPEN_FLAGS |= getattr(os, _flag, 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_bounded(path: str | Path, what: str, error: type[FlopcountError], file: str | None = None) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; error(..., file=file or path) for anything else.

    what names the file in messages ("spec", "baseline").
    """
    shown = str(path) if file is None else file
    fd = open_regular(path, what, error, shown)
    try:
        return read_open(fd, what, error, shown)
    finally:
        os.close(fd)


def open_regular(
    path,
    what: str,
    error: type[FlopcountError],
    shown: str,
    create: bool = False,
    max_bytes: int | None = MAX_FILE_BYTES,
) -> int:
    """A file descriptor of a regular file of at most max_bytes (created empty if create and missing).

    Opened without blocking, so a FIFO is refused instead of waited on; read-write when create.
    max_bytes=None for a file read in pieces (a model archive), never whole.
    """
    flags = (os.O_RDWR | os.O_CREAT if create else os.O_RDONLY) | _OPEN_FLAGS
    try:
        fd = os.open(path, flags, 0o644)
    except (OSError, ValueError) as err:
        raise error(f"cannot {'write' if create else 'read'} the {what}: {reason(err)}.", file=shown) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
            raise error(f"the {what} is {kind}, not a regular file.", file=shown)
        if max_bytes is not None and info.st_size > max_bytes:
            raise error(too_large(what, info.st_size), file=shown)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_open(fd: int, what: str, error: type[FlopcountError], shown: str) -> bytes:
    """Read a file opened by open_regular from its start, at most MAX_FILE_BYTES (it may have grown since)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(2**20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise error(f"cannot read the {what}: {reason(err)}.", file=shown) from None
    if size > MAX_FILE_BYTES:
        raise error(too_large(what, size), file=shown)
    return b"".join(chunks)


def too_large(what: str, size: int) -> str:
    return f"the {what} is larger than {MAX_FILE_BYTES // 2**20} MiB ({size:,} bytes), the largest flopcount reads."


def reason(err: OSError | ValueError) -> str:
    """Why a path cannot be opened, as a short phrase: 'No such file or directory', 'the file name is too long ...'."""
    if isinstance(err, ValueError):  # os.open and Path.exists refuse a NUL byte so
        return "the file name holds a NUL character"
    if err.errno == errno.ENAMETOOLONG:
        return "the file name is too long for the file system"
    return err.strerror or type(err).__name__


def exists(path: str | Path, what: str, error: type[FlopcountError]) -> bool:
    """Whether path names something; error(...) when the system refuses the name itself (too long, a NUL byte).

    Path.exists raises OSError for a name longer than the file system allows (Python 3.11).
    """
    try:
        return Path(path).exists()
    except (OSError, ValueError) as err:
        raise error(f"cannot read the {what}: {reason(err)}.", file=str(path)) from None
