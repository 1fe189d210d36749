"""Backup signatures: only a dump this site wrote is restored or verified.

A SHA-256 beside a dump proves only that the two files match, and anyone who can write to BACKUP_DIR
can write both: a planted dump with a CHECK constraint calling COPY ... TO PROGRAM ran a shell command
as the database superuser during the weekly verification. So backup_db also writes NAME.sig, an
HMAC-SHA256 of the dump's name and digest under a key kept outside BACKUP_DIR (BACKUP_SIGNING_KEY, or
the file BACKUP_SIGNING_KEY_FILE, made 0600 by the first backup). The name is signed too, so renaming
a dump (to a date in the future, to make it "newest") breaks its signature.
"""
import hashlib
import hmac
import secrets
from pathlib import Path

from django.conf import settings

from ask.core.private_files import private_dir, private_write


class SignatureError(Exception):
    """The backup is unsigned, signed with another key, or the key itself cannot be had."""


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + ".sig")


def _key_file() -> Path:
    key_file = Path(settings.BACKUP_SIGNING_KEY_FILE).resolve()
    backup_dir = Path(settings.BACKUP_DIR).resolve()
    if key_file.is_relative_to(backup_dir):
        raise SignatureError(f"BACKUP_SIGNING_KEY_FILE ({key_file}) lies inside BACKUP_DIR ({backup_dir}): whoever "
                             "can plant a dump there could sign it too; keep the key elsewhere.")
    return key_file


def signing_key(*, create: bool = False) -> bytes:
    """The key: BACKUP_SIGNING_KEY, else the key file (made when create=True and missing)."""
    if settings.BACKUP_SIGNING_KEY:
        return settings.BACKUP_SIGNING_KEY.encode()
    key_file = _key_file()
    if not key_file.exists():
        if not create:
            raise SignatureError(f"no backup signing key at {key_file} (BACKUP_SIGNING_KEY_FILE): without it no "
                                 "backup can be trusted; copy it from the host that made the backups.")
        private_dir(key_file.parent)
        private_write(key_file, secrets.token_hex(32) + "\n")
    return key_file.read_text().strip().encode()


def _mac(name: str, digest: str, key: bytes) -> str:
    return hmac.new(key, f"{name}\n{digest}\n".encode(), hashlib.sha256).hexdigest()


def backup_sign(path: Path, digest: str) -> None:
    private_write(signature_path(path), _mac(path.name, digest, signing_key(create=True)) + "\n")


def signature_verify(path: Path, digest: str) -> None:
    sig = signature_path(path)
    if not sig.is_file():
        raise SignatureError(f"{path}: no signature ({sig.name}); refusing a backup this site did not sign.")
    if not hmac.compare_digest(sig.read_text().strip(), _mac(path.name, digest, signing_key())):
        raise SignatureError(f"{path}: its signature does not match; refusing a backup this site did not sign "
                             "(or one renamed since).")
