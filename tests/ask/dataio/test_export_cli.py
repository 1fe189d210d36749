"""export_data run as an admin runs it (a shell's pipes and redirections, Ctrl-C, a full disk, a
missing folder, a date in the site's time zone): what is printed, the exit status, what is on disk."""
import csv
import gzip
import io
import json
import os
import re
import signal
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ask.jobs.models import JobRun
from ask.qa.models import Tag
from tests.factories import QuestionFactory
from tests.support import PYTHON, ROOT, manage, process_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_gzip_to_stdout_redirected_to_a_file_is_whole_and_exit_0(var_dir, tmp_path):
    Tag.objects.bulk_create(Tag(name=f"t{n}") for n in range(50))
    out = tmp_path / "a.csv.gz"
    with out.open("wb") as target:
        result = subprocess.run([PYTHON, str(ROOT / "manage.py"), "export_data", "tags", "--gzip"], stdout=target,
                                stderr=subprocess.PIPE, env=process_env(var_dir), cwd=ROOT, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"export_data: exported 50 tags to stdout in [0-9.]+s", result.stderr.strip())
    assert len(list(csv.DictReader(io.StringIO(gzip.decompress(out.read_bytes()).decode())))) == 50


def test_a_reader_that_stops_early_ends_the_export_in_one_line_without_a_traceback(var_dir):
    Tag.objects.bulk_create(Tag(name=f"t{n}") for n in range(20000))
    result = subprocess.run(f"{PYTHON} manage.py export_data tags --format jsonl | head -n 2", shell=True,
                            env={**process_env(var_dir), "SHELL": "/bin/bash"}, cwd=ROOT, capture_output=True,
                            text=True, timeout=60, executable="/bin/bash")
    assert [json.loads(line)["name"] for line in result.stdout.splitlines()] == ["t0", "t1"]
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if "stdout was closed by its reader" in line]
    run = JobRun.objects.get(job="export_data")
    assert run.status == "failed" and run.error.startswith("stdout was closed by its reader")
    status = subprocess.run(f"set -o pipefail; {PYTHON} manage.py export_data tags | head -n 1 >/dev/null",
                            shell=True, env=process_env(var_dir), cwd=ROOT, capture_output=True, timeout=60,
                            executable="/bin/bash")
    assert status.returncode == 141, "as shells report a writer stopped by SIGPIPE"


def test_ctrl_c_during_an_export_to_a_file_leaves_no_partial_file(var_dir, tmp_path):
    Tag.objects.bulk_create(Tag(name=f"t{n}") for n in range(60000))
    target = tmp_path / "big.jsonl.gz"
    partial = tmp_path / "big.jsonl.gz.partial"
    process = subprocess.Popen([PYTHON, str(ROOT / "manage.py"), "export_data", "tags", "-o", str(target)],
                               env=process_env(var_dir), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    wait_for(lambda: partial.exists() and partial.stat().st_size > 0, timeout=30, interval=0.002,
             what="the export to be writing")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted (Ctrl-C)" in stderr and "Traceback" not in stderr
    assert sorted(os.listdir(tmp_path)) == ["var"], "neither the partial file nor a half export is left"


def test_a_missing_folder_is_one_line_naming_it(var_dir, tmp_path):
    result = manage("export_data", "tags", "-o", str(tmp_path / "no" / "such" / "tags.csv"), env=process_env(var_dir))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"CommandError: {tmp_path}/no/such/tags.csv: the folder {tmp_path}/no/such does not exist; nothing written"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system needs root")
def test_a_full_disk_is_one_line_and_leaves_nothing(var_dir, tmp_path):
    Tag.objects.bulk_create(Tag(name=f"tag-{n:05}") for n in range(30000))
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], check=True)
    try:
        result = manage("export_data", "tags", "-o", str(small / "tags.csv"), env=process_env(var_dir))
        left = os.listdir(small)
    finally:
        subprocess.run(["umount", str(small)], check=True)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == (f"CommandError: {small}/tags.csv: cannot write: No space left on device; "
                                     "nothing written (tags.csv.partial removed)")
    assert left == []
    to_stdout = subprocess.run(f"{PYTHON} manage.py export_data tags > /dev/full", shell=True,
                               env=process_env(var_dir), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert to_stdout.returncode == 1
    assert to_stdout.stderr.strip() == "CommandError: stdout: cannot write: No space left on device"


def test_since_takes_a_date_in_the_sites_time_zone(var_dir):
    zone = ZoneInfo("Europe/Berlin")
    QuestionFactory(title="late october", created_at=datetime(2026, 10, 31, 23, 30, tzinfo=zone))
    QuestionFactory(title="early november", created_at=datetime(2026, 11, 1, 0, 30, tzinfo=zone))
    env = process_env(var_dir, TIME_ZONE="Europe/Berlin")
    for since in ("2026-11-01", "2026-11-01T00:00", "2026-10-31T23:00:00+00:00"):
        result = manage("export_data", "questions", "--since", since, env=env)
        assert result.returncode == 0, result.stderr
        assert [row["title"] for row in csv.DictReader(io.StringIO(result.stdout))] == ["early november"], since
    bad = manage("export_data", "questions", "--since", "2026-11-31", env=env)
    assert bad.returncode == 2 and "--since '2026-11-31' is not a date" in bad.stderr
    assert not JobRun.objects.filter(status="failed").exists(), "a typo is not a failed run"
