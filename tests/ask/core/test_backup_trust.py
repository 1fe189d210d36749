"""Only this site's own backups are restored or verified, and nobody else can read them (security 5, 6)."""
import os
import shutil
import stat
import subprocess
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ask.core.backup_signing import backup_sign, signature_path
from ask.core.backups import checksum_path, newest_backup, sha256_of

pytestmark = pytest.mark.django_db(transaction=True)
PG = {"PATH": "/usr/bin:/bin"}


def psql(database: str, script: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qc",
                    script], env=PG, check=True, capture_output=True)


@pytest.fixture
def planted_dump(backup_dir):
    """A dump whose CHECK constraint runs COPY ... TO PROGRAM when its rows are loaded."""
    marker = f"/tmp/ask-planted-{uuid.uuid4().hex}"
    source = f"planted_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", source], env=PG, check=True)
    try:
        psql(source, "CREATE FUNCTION public.evil(int) RETURNS boolean LANGUAGE plpgsql AS "
                     "$$ BEGIN RETURN true; END $$;"
                     "CREATE TABLE public.t (x int CHECK (public.evil(x))); INSERT INTO public.t VALUES (1);")
        psql(source, "CREATE OR REPLACE FUNCTION public.evil(int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN "
                     f"EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {marker}'''; RETURN true; END $$;")
        backup_dir.mkdir(parents=True)
        dump = backup_dir / f"ask-{timezone.now():%Y%m%d-%H%M%S}.dump"
        subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-Fc", f"--file={dump}", source],
                       env=PG, check=True)
        checksum_path(dump).write_text(f"{sha256_of(dump)}  {dump.name}\n")
        yield dump, marker
    finally:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", "--if-exists", source], env=PG)
        if os.path.exists(marker):
            os.unlink(marker)


def test_an_unsigned_dump_with_a_matching_checksum_is_refused(planted_dump):
    dump, marker = planted_dump
    for command in (["verify_backup"], ["verify_backup", str(dump)], ["restore_db", str(dump), "--yes"]):
        with pytest.raises(CommandError, match="no signature"):
            call_command(*command, stdout=StringIO())
    assert not os.path.exists(marker)


def test_even_a_signed_dump_is_verified_without_the_rights_to_run_a_program(planted_dump):
    """Should the key leak (or a dump of a tampered database be signed), verification still runs nothing."""
    dump, marker = planted_dump
    backup_sign(dump, sha256_of(dump))
    with pytest.raises(CommandError, match="pg_restore into scratch failed.*(permission denied|must be superuser)"):
        call_command("verify_backup", str(dump), stdout=StringIO())
    assert not os.path.exists(marker), "the COPY ... TO PROGRAM of the planted constraint never ran"


def test_a_backup_renamed_into_the_future_is_neither_newest_nor_accepted(backup_dir):
    call_command("fill_db", "1", "--seed", "3", stdout=StringIO())
    call_command("backup_db", stdout=StringIO())
    (real,) = backup_dir.glob("*.dump")
    future = backup_dir / "ask-20991231-235959.dump"
    for a, b in ((real, future), (checksum_path(real), checksum_path(future)),
                 (signature_path(real), signature_path(future))):
        shutil.copy(a, b)
    assert newest_backup() == real
    with pytest.raises(CommandError, match="in the future"):
        call_command("verify_backup", str(future), stdout=StringIO())
    earlier = backup_dir / f"ask-{timezone.now() - timedelta(hours=1):%Y%m%d-%H%M%S}.dump"
    for a, b in ((real, earlier), (checksum_path(real), checksum_path(earlier)),
                 (signature_path(real), signature_path(earlier))):
        shutil.copy(a, b)
    with pytest.raises(CommandError, match="signature does not match"):
        call_command("verify_backup", str(earlier), stdout=StringIO())
    assert "is good" in call_command_out("verify_backup")


def call_command_out(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_backups_checksums_signatures_and_the_key_are_private_whatever_the_umask(backup_dir, settings):
    old = os.umask(0)
    try:
        call_command("backup_db", stdout=StringIO())
    finally:
        os.umask(old)
    (dump,) = backup_dir.glob("*.dump")
    for path in (dump, checksum_path(dump), signature_path(dump), settings.BACKUP_SIGNING_KEY_FILE):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700


def test_a_signing_key_inside_the_backup_folder_is_refused(backup_dir, settings):
    settings.BACKUP_SIGNING_KEY_FILE = backup_dir / "key"
    with pytest.raises(CommandError, match="lies inside BACKUP_DIR"):
        call_command("backup_db", stdout=StringIO())
