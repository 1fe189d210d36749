"""Avatars: a picture a member uploads, shown to every visitor, so it is checked and rewritten here.

What a member uploads never reaches visitors as it came: a 17 KB PNG of 12000 × 12000 pixels makes
every browser decode 576 MB, a PNG named .pdf was served as a PDF, and metadata or polyglot bytes ride
along in the original. So pictures over AVATAR_MAX_SIDE pixels a side are refused (read from the
header, before any decoding), the rest is decoded, shrunk to AVATAR_SIZE a side at most and encoded
anew as PNG (transparency) or JPEG (photos), under a random name with that format's extension. A
replaced or removed avatar's file is deleted once the change is committed, so it stops being public.
"""
import io
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageOps

AVATAR_MAX_SIDE = 4096  # pixels a side an upload may have (≈ 64 MB decoded at most)
AVATAR_SIZE = 256  # pixels a side of the stored picture (shown at 32-96 px, twice for sharp screens)
ACCEPTED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


def avatar_problem(upload) -> str:
    """Why this upload cannot be an avatar ("" when it can), reading only the image's header."""
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            width, height, kind = image.width, image.height, image.format
    except Exception:  # Pillow raises many kinds for a file that is not a picture
        return "Upload a PNG, JPEG, GIF or WebP picture."
    finally:
        upload.seek(0)
    if kind not in ACCEPTED_FORMATS:
        return f"Upload a PNG, JPEG, GIF or WebP picture (this one is {kind})."
    if width > AVATAR_MAX_SIDE or height > AVATAR_MAX_SIDE:
        return f"The picture is {width} × {height} pixels; at most {AVATAR_MAX_SIDE} a side, please."
    return ""


def avatar_file(upload) -> ContentFile:
    """The picture re-encoded at AVATAR_SIZE at most, named avatars/<random>.png|.jpg."""
    upload.seek(0)
    with Image.open(upload) as image:
        image.seek(0)  # the first frame of an animation
        picture = ImageOps.exif_transpose(image)
        picture.thumbnail((AVATAR_SIZE, AVATAR_SIZE))
        transparent = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
        out = io.BytesIO()
        if transparent:
            picture.convert("RGBA").save(out, "PNG", optimize=True)
            extension = "png"
        else:
            picture.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            extension = "jpg"
    return ContentFile(out.getvalue(), name=f"{secrets.token_urlsafe(16)}.{extension}")


def avatar_forget(name: str) -> None:
    """Delete an avatar's file once the transaction that stopped using it commits."""
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))
