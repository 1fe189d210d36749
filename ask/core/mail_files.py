"""The embedded site's mail delivery: one file per mail under var/mail, readable by the site's user only.

Django's file backend writes with the umask (0644 on most systems): activation and reset links in
those files worked for anyone on the machine. This one makes the folder 0700 and each file 0600.
"""
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend

from ask.core.private_files import private_dir, private_open


class PrivateFileEmailBackend(EmailBackend):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        private_dir(Path(self.file_path))

    def open(self) -> bool:
        if self.stream is None:
            self.stream = private_open(Path(self._get_filename()), "wb")
            return True
        return False
