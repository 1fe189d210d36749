"""The embedded site's mail delivery: one file per mail under var/mail, readable by the site's user only.

Django's file backend writes with the umask (0644 on most systems): activation and reset links in
those files worked for anyone on the machine. This one makes the folder 0700 and each file 0600.
Django's names each file by the time and an object id and puts every mail of a batch into it; here
each mail gets its own file named by when, to whom and what ("20261206-215800-ada-example.com-
activate-your-account.eml"), so a newcomer finds the activation mail by looking, and the terminal
says where it went.
"""
import logging
import re
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.filebased import EmailBackend
from django.utils import timezone

from ask.core.private_files import UnsafePath, private_dir, private_open

logger = logging.getLogger(__name__)
NAME_PART = 40  # characters of the address and of the subject in a file name


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9@.]+", "-", text.lower()).replace("@", "-").strip("-.")[:NAME_PART].strip("-.")


def file_name(message) -> str:
    """When, to whom, what: sorted by time in a listing, readable at a glance."""
    to = _slug(message.to[0]) if message.to else "nobody"
    return f"{timezone.now():%Y%m%d-%H%M%S}-{to}-{_slug(message.subject) or 'no-subject'}"


def mail_folder() -> str | None:
    """Where mail goes when this site writes it to files (the embedded default), for the pages that
    tell a newcomer where to look; None when it is really sent. Relative to the project when inside it."""
    backends = settings.POST_OFFICE.get("BACKENDS", {})
    if not any(backend.endswith("PrivateFileEmailBackend") for backend in backends.values()):
        return None
    folder = Path(settings.EMAIL_FILE_PATH)
    return str(folder.relative_to(settings.BASE_DIR)) if folder.is_relative_to(settings.BASE_DIR) else str(folder)


class PrivateFileEmailBackend(EmailBackend):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        private_dir(Path(self.file_path))

    def open(self) -> bool:
        return False  # each mail opens a file of its own (Django's would open one .log per connection)

    def close(self) -> None:
        pass

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            path = self._write(message)
            logger.info("mail to %s (%s) written to %s", ", ".join(message.to), message.subject, path)
            sent += 1
        return sent

    def _write(self, message) -> Path:
        name = file_name(message)
        for n in range(1, 1000):  # two mails to one address in one second get -2, -3, ...
            path = Path(self.file_path) / f"{name}{'' if n == 1 else f'-{n}'}.eml"
            try:
                with private_open(path, "wb") as stream:
                    stream.write(message.message().as_bytes())
                return path
            except UnsafePath:
                if path.is_symlink():
                    raise
        raise UnsafePath(f"{name}.eml: a thousand mails of that name in one second")
