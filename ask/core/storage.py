"""Static files storage: hashed, compressed names, but never an error for a file not collected.

Django's manifest storage raises while rendering a page that links a file collectstatic did not
see, so one forgotten step turns every page into a 500, the 500 page included. Here such a link
falls back to the plain name (and a 404 for that one file).
"""
from django.core.files.storage import FileSystemStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def url(self, name: str, force: bool = False) -> str:
        try:
            return super().url(name, force)
        except ValueError:
            return FileSystemStorage.url(self, name)
