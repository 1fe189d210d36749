"""scripts/cron-job reads the environment file literally, as systemd does, and refuses one others can
read (security finding 17)."""
import json
import os
import subprocess

from tests.support import ROOT

SHOW = "import json, os; print(json.dumps({k: os.environ.get(k) for k in ['A', 'B', 'C', 'D', 'E', 'F']}))"


def run_with(env_file, tmp_path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/root", "ASK_ENV_FILE": str(env_file), "ASK_VAR_DIR": str(tmp_path)}
    return subprocess.run([str(ROOT / "scripts/cron-job"), "--python", "-c", SHOW], env=env, capture_output=True,
                          text=True, timeout=30)


def test_values_are_taken_literally_never_run_or_expanded(tmp_path):
    marker = tmp_path / "ran"
    env_file = tmp_path / "env"
    env_file.write_text(f"# the site's settings\n\nA=$(touch {marker})\nB=$HOME/x\n"
                        "C=ask <noreply@localhost>\nD=\"quoted value\"\n  export E='single'\nF=a=b=c\n")
    env_file.chmod(0o600)
    result = run_with(env_file, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"A": f"$(touch {marker})", "B": "$HOME/x", "C": "ask <noreply@localhost>",
                                         "D": "quoted value", "E": "single", "F": "a=b=c"}
    assert not marker.exists(), "nothing in the file ran"


def test_a_file_others_can_read_is_refused_and_a_bad_line_is_named(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("A=1\n")
    env_file.chmod(0o644)
    refused = run_with(env_file, tmp_path)
    assert refused.returncode == 2 and "can be read or written by other users" in refused.stderr
    env_file.write_text("A=1\nnot a setting\n")
    os.chmod(env_file, 0o640)
    bad = run_with(env_file, tmp_path)
    assert bad.returncode == 2 and "line 2" in bad.stderr


def test_a_job_gives_way_to_the_web_processes(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("A=1\n")
    env_file.chmod(0o600)
    env = {"PATH": "/usr/bin:/bin", "ASK_ENV_FILE": str(env_file), "ASK_VAR_DIR": str(tmp_path)}
    niceness = "import os; print(os.nice(0))"
    ran = subprocess.run([str(ROOT / "scripts/cron-job"), "--python", "-c", niceness], env=env, capture_output=True,
                         text=True, timeout=30)
    assert int(ran.stdout) == os.nice(0) + 10, ran.stderr
    ran = subprocess.run([str(ROOT / "scripts/cron-job"), "--python", "-c", niceness], capture_output=True, text=True,
                         env={**env, "ASK_JOB_NICE": "0"}, timeout=30)
    assert int(ran.stdout) == os.nice(0)
