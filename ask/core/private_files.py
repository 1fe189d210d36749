"""Files only the site's own user may read, whatever the umask, and never written through a link.

Dumps hold password hashes and sessions, the mail files hold working reset links, exports hold
members' addresses: each is created 0600 in a folder made 0700. Creating with O_EXCL|O_NOFOLLOW means a
link planted at the name (in a shared folder, say) makes the write fail instead of overwriting the
file it points at. Backups are read the same way (open_plain): never through a link, and never from a
pipe or device planted at their name, which would block a job or feed it other bytes.
"""
import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO, TextIO

FILE_MODE = 0o600
DIR_MODE = 0o700


class UnsafePath(OSError):
    """A name the site would write to is taken by a link or another file it did not make."""


def private_dir(path: Path) -> Path:
    """Make the folder (and missing parents) and leave it readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if path.is_symlink():
        raise UnsafePath(f"{path}: is a symbolic link; the site writes only into real folders")
    os.chmod(path, DIR_MODE)
    return path


def private_open(path: Path, mode: str = "wb", *, replace: bool = False, **text_options) -> BinaryIO | TextIO:
    """Create the file 0600 and open it for writing ("wb", "w" or "xb"/"x" are the same here).

    With replace=True an existing regular file of that name is removed first (a stale .partial of a run
    that died); a symbolic link there is never followed nor removed: UnsafePath names it.
    """
    if path.is_symlink():
        raise UnsafePath(f"{path}: is a symbolic link; refusing to write through it")
    if replace and path.exists():
        path.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, FILE_MODE)
    except FileExistsError:
        raise UnsafePath(f"{path}: exists already; move it away or choose another name") from None
    os.fchmod(fd, FILE_MODE)  # the umask may have taken bits off; it never adds any, but be explicit
    binary = "b" in mode
    return os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", **text_options}))


def private_write(path: Path, text: str) -> Path:
    """Write a small text file 0600, replacing a regular file of that name."""
    with private_open(path, "w", replace=True) as out:
        out.write(text)
    return path


def make_private(path: Path) -> None:
    """Take group and other bits off a file the site has written by other means (pg_dump, say)."""
    if path.is_symlink():
        raise UnsafePath(f"{path}: is a symbolic link; refusing to change what it points at")
    os.chmod(path, FILE_MODE)


def open_plain(path: Path) -> BinaryIO:
    """Open a file to read, only if it is a plain file reached without a link; FileNotFoundError when
    there is none, UnsafePath for anything else there."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as error:
        raise UnsafePath(f"{path}: cannot be read as a plain file ({error.strerror})") from None
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise UnsafePath(f"{path}: not a plain file")
    return handle


def copy_hashed(path: Path, into: BinaryIO, chunk: int = 1024 * 1024) -> str:
    """Copy a plain file into `into` in one read, returning the SHA-256 of exactly what was copied."""
    digest = hashlib.sha256()
    with open_plain(path) as source:
        while block := source.read(chunk):
            digest.update(block)
            into.write(block)
    return digest.hexdigest()
