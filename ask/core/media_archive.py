"""The uploads (avatars and any later media under MEDIA_ROOT) in every backup: a tar file beside each
dump and inside each base backup, checksummed and signed with it, and put back by a restore of the
site's own database.

Uncompressed: the uploads are images, compressed already. A restore adds and replaces files, and
deletes none: an upload made after the backup stays, unreferenced, rather than be lost by a restore
to the wrong minute. The archive is copied once while its SHA-256 is computed and unpacked from that
copy only when the digest is the one signed: a file swapped in after the check is never used."""
import os
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings

from ask.core.private_files import copy_hashed, make_private, private_open


class MediaArchiveError(Exception):
    """The uploads' archive cannot be read or put back."""


def media_archive_write(target: Path) -> int:
    """Write MEDIA_ROOT's files into target (a new tar, 0600); returns the number of files."""
    root = Path(settings.MEDIA_ROOT)
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()) if root.is_dir() else []
    with private_open(target, "wb", replace=True) as out, tarfile.open(fileobj=out, mode="w") as tar:
        for path in files:
            tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
    make_private(target)
    return len(files)


def _copy_checked(source: Path, digest: str, into) -> None:
    try:
        copied = copy_hashed(source, into)
    except OSError as error:
        raise MediaArchiveError(str(error)) from None
    if copied != digest:
        raise MediaArchiveError(f"{source}: SHA-256 does not match its signature; the uploads were not put back.")
    into.flush()
    into.seek(0)


def media_archive_restore(source: Path, digest: str) -> int:
    """Put the archive's files back under MEDIA_ROOT when it is the one signed (digest); returns their
    number. tarfile's "data" filter refuses links, devices and any name reaching outside the folder."""
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)  # its mode is the site's own choice (a proxy may serve it)
    with tempfile.TemporaryFile() as copy:
        _copy_checked(source, digest, copy)
        try:
            with tarfile.open(fileobj=copy, mode="r:") as tar:
                members = [m for m in tar.getmembers() if m.isfile()]
                with tempfile.TemporaryDirectory(dir=root, prefix=".restore-") as unpacked:
                    tar.extractall(unpacked, members=members, filter="data")
                    for member in members:
                        target = root / member.name
                        target.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(Path(unpacked) / member.name, target)  # a link at the name is replaced
        except (tarfile.TarError, OSError) as error:
            raise MediaArchiveError(f"{source}: the uploads could not be put back: {error}") from None
    return len(members)
