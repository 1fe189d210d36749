"""The uploads (avatars and any later media under MEDIA_ROOT) in every backup: a tar file beside each
dump and inside each base backup, checksummed and signed with it, and put back by a restore.

Uncompressed: the uploads are images, compressed already. A restore adds and replaces files, and
deletes none: an upload made after the backup stays, unreferenced, rather than be lost by a restore
to the wrong minute."""
import tarfile
from pathlib import Path

from django.conf import settings

from ask.core.private_files import make_private, private_dir, private_open


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


def media_archive_restore(source: Path) -> int:
    """Put the archive's files back under MEDIA_ROOT; returns their number. tarfile's "data" filter
    refuses links, devices and any name reaching outside the folder."""
    root = private_dir(Path(settings.MEDIA_ROOT))
    try:
        with tarfile.open(source, mode="r:") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            tar.extractall(root, members=members, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise MediaArchiveError(f"{source}: the uploads could not be put back: {error}") from None
    return len(members)
