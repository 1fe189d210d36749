"""export_data and import_data on the embedded default (SQLite), where the PostgreSQL fast paths
give way to portable SQL: a round trip gives identical files and counters, a re-import writes nothing."""
import os
import sqlite3
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow

MODELS = ["users", "tags", "questions", "answers", "votes", "restaurants", "dishes", "orders"]


def manage(var_dir, *args, env: dict | None = None) -> str:
    env = {**{k: v for k, v in os.environ.items()
              if k not in {"DATABASE_URL", "MEMCACHED_SERVERS", "DJANGO_SETTINGS_MODULE"}}, **(env or {})}
    env.update(ASK_VAR_DIR=str(var_dir), LOG_LEVEL="ERROR")
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"manage.py {' '.join(args)}: {done.stderr}"
    return done.stdout


def counters(var_dir) -> list:
    with sqlite3.connect(var_dir / "ask.sqlite3") as db:
        return db.execute("SELECT q.id, q.rating, q.answer_count, q.has_accepted, "
                          "(SELECT group_concat(a.id || ':' || a.rating, ',') FROM ask_answer a "
                          "WHERE a.question_id = q.id) "
                          "FROM ask_question q ORDER BY q.id").fetchall()


def test_round_trip_on_sqlite(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    for var_dir in (source, target):
        var_dir.mkdir()
        manage(var_dir, "migrate", "-v0")
    manage(source, "fill_db", "3", "--seed", "4")
    manage(source, "fill_orders", "30", "--seed", "4")
    for model in MODELS:
        manage(source, "export_data", model, "-o", str(tmp_path / f"{model}.jsonl"))
    for model in MODELS:
        said = manage(target, "import_data", model, str(tmp_path / f"{model}.jsonl"))
        assert " 0 updated, 0 unchanged, 0 rejected" in said and " 0 written" not in said, (model, said)
    for model in MODELS:
        manage(target, "export_data", model, "-o", str(tmp_path / f"again-{model}.jsonl"))
        assert (tmp_path / f"again-{model}.jsonl").read_bytes() == (tmp_path / f"{model}.jsonl").read_bytes(), model
    assert counters(target) == counters(source), "ratings, answer counts and accepted flags follow the imported rows"
    for model in MODELS:
        said = manage(target, "import_data", model, str(tmp_path / f"{model}.jsonl"))
        assert " 0 written: 0 new, 0 updated, " in said and " 0 unchanged" not in said, (model, said)
    assert counters(target) == counters(source)


def test_backups_on_sqlite_are_one_file_each_and_restore_while_the_site_keeps_its_wal_mode(tmp_path):
    """SQLite backups left -shm and -wal files beside them in the backup folder."""
    var_dir, backups = tmp_path / "var", tmp_path / "backups"
    var_dir.mkdir()
    manage(var_dir, "migrate", "-v0")
    manage(var_dir, "fill_db", "1", "--seed", "3")
    env = {"BACKUP_DIR": str(backups)}
    manage(var_dir, "backup_db", env=env)
    manage(var_dir, "verify_backup", env=env)
    [backup] = backups.glob("*.sqlite3")
    media = backup.name.removesuffix(".sqlite3") + ".media.tar"  # the uploads, beside it
    expected = sorted([backup.name, f"{backup.name}.sha256", f"{backup.name}.sig", f"{backup.name}.verified",
                       media, f"{media}.sha256", f"{media}.sig"])
    assert sorted(p.name for p in backups.iterdir()) == expected
    before = counters(var_dir)
    manage(var_dir, "fill_db", "1", "--seed", "9")
    manage(var_dir, "restore_db", str(backup), "--yes", env=env)
    assert counters(var_dir) == before
    assert sorted(p.name for p in backups.iterdir()) == expected
    with sqlite3.connect(var_dir / "ask.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
