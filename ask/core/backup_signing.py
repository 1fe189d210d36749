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
import json
import os
import secrets
from pathlib import Path

from django.conf import settings

from ask.core.private_files import open_plain, private_dir, private_write


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


def signed_json_write(path: Path, body: dict) -> None:
    """A manifest (the WAL archive's, a base backup's) written whole with its MAC inside, under a
    temporary name renamed over the old one: a reader sees the old manifest or the new, never half."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()
    partial = path.with_name(path.name + ".tmp")
    private_write(partial, json.dumps({"body": body, "mac": _mac(path.name, digest, signing_key(create=True))},
                                      sort_keys=True, indent=1) + "\n")
    os.replace(partial, path)


def signed_json_read(path: Path) -> dict:
    """The body of a manifest this site signed under this name; SignatureError otherwise."""
    try:
        data = json.loads(_read_small(path))
        body, mac = data["body"], data["mac"]
    except FileNotFoundError:
        raise SignatureError(f"{path}: missing.") from None
    except OSError as error:
        raise SignatureError(f"{path}: cannot be read as a plain file ({error.strerror or error}).") from None
    except (ValueError, KeyError, TypeError):
        raise SignatureError(f"{path}: not a manifest this site wrote (unreadable JSON).") from None
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(path.name, digest, signing_key())):
        raise SignatureError(f"{path}: its signature does not match; refusing a manifest this site did not sign.")
    return body


MANIFEST_MAX_BYTES = 64 * 1024 * 1024


def _read_small(path: Path) -> str:
    """A manifest's text: never through a link, never blocking on a pipe planted at its name, never
    more than MANIFEST_MAX_BYTES."""
    with open_plain(path) as handle:
        data = handle.read(MANIFEST_MAX_BYTES + 1)
    if len(data) > MANIFEST_MAX_BYTES:
        raise ValueError("too large")
    return data.decode()
