"""Backups: written whole with a checksum, restored into an empty database identically, damaged
files refused, rotation keeping exactly what it should, and a pg_dump older than the server refused."""
import re
import subprocess
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ask.core.backups import BackupError, backup_mark_verified, backups_to_keep, checksum_path, pg_dump_compatible
from ask.core.dump_verify import table_row_counts
from tests.support import manage, process_env


def content_of(database: str, env: dict) -> str:
    """Every row of the Q&A and account tables, ordered: equal strings mean equal content."""
    query = ("SELECT string_agg(t::text, '|' ORDER BY t::text) FROM (SELECT id, title, rating FROM ask_question) t;"
             "SELECT string_agg(t::text, '|' ORDER BY t::text)"
             " FROM (SELECT id, email, display_name FROM accounts_user) t;")
    return subprocess.run(["psql", "-At", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-c", query],
                          capture_output=True, text=True, check=True, env=env).stdout


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_an_empty_database_gives_the_same_rows_and_uploads(backup_dir, var_dir, settings,
                                                                                      tmp_path):
    call_command("fill_db", "3", "--seed", "5", stdout=StringIO())
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "avatars").mkdir(parents=True)
    (settings.MEDIA_ROOT / "avatars" / "a.png").write_bytes(b"\x89PNG a")
    out = StringIO()
    call_command("backup_db", stdout=out)
    (dump,) = backup_dir.glob("*.dump")
    assert checksum_path(dump).read_text().endswith(f"  {dump.name}\n")
    media = dump.with_name(dump.name.removesuffix(".dump") + ".media.tar")
    assert checksum_path(media).is_file() and media.with_name(media.name + ".sig").is_file()
    assert not list(backup_dir.glob("*.partial")) and "MB in" in out.getvalue()
    source = settings.DATABASES["default"]["NAME"]
    target = f"{source}_restored"
    env = {"PATH": "/usr/bin:/bin"}
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", target], env=env, check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", target], env=env, check=True)
    try:
        env_of_host = process_env(var_dir, BACKUP_SIGNING_KEY_FILE=str(settings.BACKUP_SIGNING_KEY_FILE))
        refused = manage("restore_db", str(dump), "--database", target, env=env_of_host)
        assert refused.returncode == 2 and "--yes" in refused.stderr
        restored = manage("restore_db", str(dump), "--yes", "--database", target, env=env_of_host)
        assert restored.returncode == 0, restored.stderr
        assert "the live uploads left as they are" in restored.stdout, "a scratch database leaves the site's alone"
        assert not (var_dir / "media" / "avatars" / "a.png").exists()
        restored = manage("restore_db", str(dump), "--yes", "--database", target, "--uploads", env=env_of_host)
        assert "1 upload(s) put back" in restored.stdout, restored.stderr
        assert (var_dir / "media" / "avatars" / "a.png").read_bytes() == b"\x89PNG a"
        # The job bookkeeping (runs, leases) moved on while the backup and restore ran.
        bookkeeping = ("jobs_jobrun", "jobs_joblease")
        counts = table_row_counts(target)
        assert counts == {t: n for t, n in table_row_counts(source).items() if t not in bookkeeping} | {
            t: counts[t] for t in bookkeeping}
        assert content_of(target, env) == content_of(source, env)
    finally:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", target], env=env)


@pytest.mark.django_db(transaction=True)
def test_verify_backup_restores_the_newest_into_a_scratch_database_and_counts(backup_dir):
    call_command("fill_db", "2", "--seed", "6", stdout=StringIO())
    call_command("backup_db", stdout=StringIO())
    out = StringIO()
    call_command("verify_backup", stdout=out)
    assert " is good: " in out.getvalue() and "rows restored as dumped" in out.getvalue()
    (dump,) = backup_dir.glob("*.dump")
    assert dump.with_name(dump.name + ".verified").is_file(), "rotation will keep it"


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_and_the_database_left_alone(backup_dir):
    from ask.qa.models import Question

    call_command("fill_db", "2", "--seed", "7", stdout=StringIO())
    call_command("backup_db", stdout=StringIO())
    (dump,) = backup_dir.glob("*.dump")
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    before = Question.objects.count()
    with pytest.raises(CommandError, match="SHA-256 does not match"):
        call_command("restore_db", str(dump), "--yes", stdout=StringIO())
    with pytest.raises(CommandError, match="damaged"):
        call_command("verify_backup", str(dump), stdout=StringIO())
    checksum_path(dump).unlink()
    with pytest.raises(CommandError, match="checksum file .* is missing"):
        call_command("restore_db", str(dump), "--yes", stdout=StringIO())
    assert Question.objects.count() == before


def test_rotation_keeps_the_newest_of_each_recent_day_and_week():
    start = datetime(2026, 11, 23, 2, 30)  # a Monday
    by_hand = [start - timedelta(hours=1), start - timedelta(hours=23)]  # before a change, say
    stamps = [start - timedelta(days=d) for d in range(40)] + by_hand + [start - timedelta(hours=25)]
    keep = backups_to_keep(stamps, keep_daily=7, keep_weekly=4)
    days = {start - timedelta(days=d) for d in range(7)}
    # Weeks: this Monday's, then the newest of each of the three weeks before (Sundays).
    weeks = {start, start - timedelta(days=1), start - timedelta(days=8), start - timedelta(days=15)}
    assert keep == days | weeks | set(by_hand), "every backup of the last 24 hours stays"
    assert start - timedelta(hours=25) not in keep, "an earlier backup of an older kept day goes"
    assert backups_to_keep([start], keep_daily=1, keep_weekly=1) == {start}


@pytest.mark.django_db
def test_backup_db_rotates_files_in_the_folder_and_leaves_other_files_alone(backup_dir, settings):
    backup_dir.mkdir(parents=True)
    old = [backup_dir / f"ask-202611{d:02d}-023000.dump" for d in range(1, 11)]
    for path in old:
        path.write_bytes(b"x")
        checksum_path(path).write_text("x")
    (backup_dir / "notes.txt").write_text("mine")
    (backup_dir / "staging-20261101-023000.dump").write_bytes(b"other site")
    for path in old[1:3]:  # the last good copies: the newer ones may be damaged
        backup_mark_verified(path)
    old[3].with_name(old[3].name + ".verified").write_text('{"body": {"name": "x"}, "mac": "planted"}')
    call_command("backup_db", "--keep-daily", "3", "--keep-weekly", "1", stdout=StringIO())
    remaining = sorted(p.name for p in backup_dir.iterdir() if p.suffix == ".dump")
    assert len(remaining) == 5 and "staging-20261101-023000.dump" in remaining
    assert old[2].name in remaining and old[1].name not in remaining, "the newest verified backup stays"
    assert old[3].name not in remaining, "a marker it did not sign keeps nothing"
    assert (backup_dir / "notes.txt").exists()
    assert not checksum_path(old[0]).exists() and not old[1].with_name(old[1].name + ".verified").exists()


def test_a_pg_dump_older_than_the_server_is_refused_with_what_to_install():
    pg_dump_compatible(150020, "pg_dump (PostgreSQL) 15.20")
    pg_dump_compatible(150020, "pg_dump (PostgreSQL) 16.4")
    with pytest.raises(BackupError, match="install postgresql-client-16"):
        pg_dump_compatible(160004, "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)")


@pytest.mark.django_db(transaction=True)
def test_a_restore_over_the_site_says_what_it_restored_and_leaves_no_page_of_after_the_backup(
        backup_dir, var_dir, settings, client):
    from ask.qa.models import Question
    from tests.factories import QuestionFactory

    QuestionFactory(title="Made before the backup")
    env = process_env(var_dir, BACKUP_DIR=str(backup_dir),
                      BACKUP_SIGNING_KEY_FILE=str(settings.BACKUP_SIGNING_KEY_FILE))
    made = manage("backup_db", env=env)
    assert made.returncode == 0, made.stderr
    assert f"backup_db: wrote {backup_dir}/" in made.stdout, "named at the default verbosity"
    (dump,) = backup_dir.glob("*.dump")
    later = QuestionFactory(title="Made after the backup")
    assert client.get(f"/q/{later.pk}/").status_code == 200
    assert client.get(f"/q/{later.pk}/")["X-Cache"] == "hit"
    assert "Made after the backup" in client.get("/").content.decode()

    refused = manage("restore_db", str(dump), env=env)
    where = f"PostgreSQL database {settings.DATABASES['default']['NAME']} on "
    assert refused.returncode == 2, "refused before any run is recorded"
    assert refused.stderr.strip().startswith(f"CommandError: Restoring {dump.name} (made ")
    assert where in refused.stderr and "Stop cron on every host first" in refused.stderr
    restored = manage("restore_db", str(dump), "--yes", env=env)
    assert restored.returncode == 0, restored.stderr
    assert re.match(rf"restore_db: restored {dump.name} \(made [0-9-]+ [0-9:]+ UTC, 0 min ago\) into the {where}",
                    restored.stdout), restored.stdout
    assert "the site's caches cleared (start cron again on every host if you stopped it)" in restored.stdout
    assert not Question.objects.filter(pk=later.pk).exists()
    assert client.get(f"/q/{later.pk}/").status_code == 404, "not the cached page of a question now gone"
    assert "Made after the backup" not in client.get("/").content.decode()
    verified = manage("verify_backup", env=env)
    assert verified.returncode == 0, verified.stderr
    assert re.match(rf"verify_backup: {dump.name} \(made [0-9-]+ [0-9:]+ UTC, 0 min ago\) is good: ", verified.stdout)
