"""`manage.py jobs --doctor`: what breaks cron jobs in practice, each with how to fix it.

Run it as the web processes run (their environment), on every host that installs the schedule.
Each check returns Findings; a finding that is not ok makes the command exit 1.
"""
import hashlib
import json
import os
import pwd
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from ask.jobs.locks import LockNotExclusive, PostgresLocks, lock_connection, uses_postgres
from ask.jobs.runner import one_line

CRON_D_DIR = Path("/etc/cron.d")
CRON_WRAPPER = re.compile(r"(\S*)/scripts/(cron-job|backup\.sh)(?:\s+(.*))?$")
DJANGO_CRONTAB_RUN = re.compile(r"crontab run ([0-9a-f]{32})")
# The settings cron jobs must see as the web processes do, compared through scripts/cron-job.
SHARED_SETTINGS = ("DATABASE_URL", "JOBS_LOCK_DATABASE_URL", "MEMCACHED_SERVERS", "SITE_NAME", "TIME_ZONE",
                   "VAR_DIR", "SECRET_KEY")


@dataclass
class Finding:
    check: str
    ok: bool
    message: str
    fix: str = ""


@dataclass
class CronLine:
    source: str  # "the crontab of root", "/etc/cron.d/ask line 12"
    schedule: str
    argv: list[str] | None  # crontab.txt style: the job's command line
    job_hash: str | None  # django-crontab style: the CRONJOBS entry's hash
    text: str


_extra_checks: list[tuple[str, object]] = []


def register_check(name: str, check) -> None:
    """Add a check of the site's own (from an AppConfig.ready()): the doctor names no part of the site."""
    if name not in dict(_extra_checks):
        _extra_checks.append((name, check))


def diagnose() -> list[Finding]:
    """Every check, each on its own: one that cannot run (the database down, no pgrep) is a finding."""
    checks = [("crontab", check_crontab), ("cron daemon", check_cron_daemon), ("environment file", check_environment),
              ("virtualenv", check_virtualenv), ("time zone", check_time_zone),
              ("lock connection", check_lock_connection), *_extra_checks]
    findings = []
    for name, check in checks:
        try:
            found = check()
        except Exception as exc:  # noqa: BLE001 - the doctor reports, it does not crash
            found = Finding(name, False, f"could not check: {one_line(exc)}")
        findings += found if isinstance(found, list) else [found]
    return findings


# --- the installed schedule against CRONJOBS -------------------------------------------------------
def entry_hash(entry: tuple) -> str:
    """The hash django-crontab gives a CRONJOBS entry (`crontab run HASH`)."""
    return hashlib.md5(json.JSONEncoder(sort_keys=True).encode(entry).encode()).hexdigest()


def installed_lines() -> list[CronLine]:
    """This site's lines: the current user's crontab and /etc/cron.d files (which have a user column)."""
    lines = []
    listing = subprocess.run([settings.CRONTAB_EXECUTABLE, "-l"], capture_output=True, text=True)
    user = pwd.getpwuid(os.getuid()).pw_name
    if listing.returncode == 0:
        lines += _site_lines(listing.stdout, f"the crontab of {user}", user_column=False)
    if CRON_D_DIR.is_dir():
        for path in sorted(CRON_D_DIR.iterdir()):
            if path.is_file() and os.access(path, os.R_OK):
                lines += _site_lines(path.read_text(errors="replace"), str(path), user_column=True)
    return lines


def _site_lines(text: str, source: str, *, user_column: bool) -> list[CronLine]:
    found = []
    marker = f"# django-cronjobs for {settings.SITE_NAME}"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Za-z_]+\s*=", line):
            continue
        fields = line.split(None, 6 if user_column else 5)
        schedule, command = " ".join(fields[:5]), fields[-1]
        where = f"{source} line {number}"
        hashed = DJANGO_CRONTAB_RUN.search(line)
        if hashed and line.endswith(marker):
            found.append(CronLine(where, schedule, None, hashed.group(1), line))
            continue
        wrapped = CRON_WRAPPER.search(command.split(" #")[0].strip())
        if wrapped and _is_this_project(wrapped.group(1), text):
            argv = shlex.split(wrapped.group(3) or "")
            if wrapped.group(2) == "backup.sh":
                argv = ["backup_db", *argv]
            found.append(CronLine(where, schedule, argv, None, line))
    return found


def _is_this_project(home: str, text: str) -> bool:
    if home in ("$ASK_HOME", "${ASK_HOME}"):
        declared = re.search(r"^ASK_HOME=(\S+)", text, re.M)
        home = declared.group(1) if declared else ""
    return bool(home) and Path(home).resolve() == Path(settings.BASE_DIR).resolve()


def check_crontab() -> list[Finding]:
    lines = installed_lines()
    fix = ("reinstall the schedule: `scripts/cron-job --python manage.py crontab add` (django-crontab), "
           "or `scripts/cron-d USER > /etc/cron.d/ask`, or `crontab crontab.txt` after editing ASK_HOME")
    if not lines:
        return [Finding("crontab", False, f"no crontab line runs this site's jobs ({settings.BASE_DIR}) in this "
                        f"user's crontab or {CRON_D_DIR}", fix)]
    expected = {entry_hash(entry): entry for entry in settings.CRONJOBS}
    wanted = {(" ".join(entry[0].split()), tuple(entry[2])): entry for entry in settings.CRONJOBS}
    findings, covered = [], set()
    for line in lines:
        if line.job_hash is not None:
            entry = expected.get(line.job_hash)
            key = (" ".join(entry[0].split()), tuple(entry[2])) if entry else None
        else:
            key = (line.schedule, tuple(_without_verbosity(line.argv)))
            entry = wanted.get(key)
        if entry is None:
            findings.append(Finding("crontab", False, f"stale line in {line.source}: `{line.text}`: "
                                    f"{_why_stale(line)}", fix))
        else:
            covered.add(key)
    for key in wanted.keys() - covered:
        findings.append(Finding("crontab", False, f"missing: no line runs `{' '.join(key[1])}` at `{key[0]}`", fix))
    if not findings:
        sources = sorted({line.source.rsplit(" line ", 1)[0] for line in lines})
        findings.append(Finding("crontab", True, f"{len(lines)} lines in {', '.join(sources)}, as CRONJOBS has them"))
    return findings


def _without_verbosity(argv: list[str]) -> list[str]:
    """A crontab line may add --verbosity N (scripts/cron-job adds 0 itself); CRONJOBS never has it."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("-v", "--verbosity"):
            skip = True
        elif not arg.startswith(("-v", "--verbosity=")):
            kept.append(arg)
    return kept


def _why_stale(line: CronLine) -> str:
    if line.job_hash is not None:
        return "its entry is no longer in CRONJOBS (changed or removed)"
    command = line.argv[0] if line.argv else "?"
    now = [" ".join(entry[0].split()) + " " + " ".join(entry[2]) for entry in settings.CRONJOBS
           if entry[2][0] == command]
    return f"CRONJOBS runs it as `{'`, `'.join(now)}`" if now else f"CRONJOBS has no job {command}"


# --- the machine ------------------------------------------------------------------------------------
def check_cron_daemon() -> Finding:
    for name in ("cron", "crond"):
        if subprocess.run(["pgrep", "-x", name], capture_output=True).returncode == 0:
            return Finding("cron daemon", True, f"{name} is running")
    return Finding("cron daemon", False, "no cron daemon is running: nothing will start the jobs",
                   "start it and have it start at boot: `systemctl enable --now cron` (or `service cron start`)")


def check_environment() -> list[Finding]:
    """The environment file as cron jobs get it (through scripts/cron-job, from an empty environment)
    against the settings of this process, which runs as the web processes do."""
    env_file = Path(os.environ.get("ASK_ENV_FILE") or Path(settings.BASE_DIR) / ".env")
    findings = []
    if env_file.exists() and not os.access(env_file, os.R_OK):
        return [Finding("environment file", False, f"{env_file} is not readable by this user",
                        "run the jobs as the user that owns it, or `chown` it to the site's user")]
    code = ("import json, hashlib; from django.conf import settings as s; "
            f"print(json.dumps({{k: str(getattr(s, k, '')) for k in {SHARED_SETTINGS!r}}}))")
    cron_env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/"), "ASK_ENV_FILE": str(env_file)}
    wrapper = Path(settings.BASE_DIR) / "scripts" / "cron-job"
    result = subprocess.run([str(wrapper), "--python", "manage.py", "shell", "--no-imports", "-c", code],
                            env=cron_env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return [*findings, Finding("environment file", False, f"scripts/cron-job could not start a job: {reason}",
                                   f"fix {env_file} as the line says (KEY=value lines, chmod 600)")]
    seen_by_cron = json.loads(result.stdout.strip().splitlines()[-1])
    differ = [key for key in SHARED_SETTINGS if seen_by_cron.get(key) != str(getattr(settings, key, ""))]
    if differ:
        shown = ", ".join(differ).replace("SECRET_KEY", "SECRET_KEY (value not shown)")
        source = f"read from {env_file}" if env_file.exists() else f"there is no {env_file} to give them"
        findings.append(Finding("environment file", False, f"cron jobs would run with other {shown} than this "
                                f"process ({source} through scripts/cron-job)",
                                f"put the web processes' settings into {env_file} (chmod 600), the one file "
                                "both read"))
    else:
        source = env_file if env_file.exists() else "defaults"
        findings.append(Finding("environment file", True, f"cron jobs see the same settings as this process "
                                f"({', '.join(SHARED_SETTINGS)}; from {source})"))
    return findings


def check_virtualenv() -> Finding:
    python = Path(settings.BASE_DIR) / ".venv" / "bin" / "python"
    if not os.access(python, os.X_OK):
        return Finding("virtualenv", False, f"scripts/cron-job runs {python}, which does not exist",
                       f"create it: `python3.11 -m venv {python.parent.parent}` and "
                       f"`{python} -m pip install -r requirements.txt` (scripts/run does both)")
    if Path(sys.prefix).resolve() != python.parent.parent.resolve():
        return Finding("virtualenv", False, f"this process runs from {sys.prefix}, cron jobs from "
                       f"{python.parent.parent}: they may have other packages", "run the site from .venv too")
    return Finding("virtualenv", True, f"cron jobs run {python}, as this process does")


def cron_time_zone() -> str:
    """The zone the cron daemon fires in: its own TZ, else the machine's. (Not this process's TZ:
    Django sets that to TIME_ZONE, which is also the zone the jobs read their slots in.)"""
    daemon = subprocess.run(["pgrep", "-o", "-x", "cron"], capture_output=True, text=True).stdout.split()
    if daemon:
        try:
            environ = Path(f"/proc/{daemon[0]}/environ").read_bytes().split(b"\0")
        except OSError:
            environ = []
        for item in environ:
            if item.startswith(b"TZ="):
                return item[3:].decode().lstrip(":")
    timezone_file = Path("/etc/timezone")
    if timezone_file.exists():
        return timezone_file.read_text().strip()
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        return str(localtime.resolve()).split("zoneinfo/", 1)[-1]
    return "UTC"


def _same_zone(a: str, b: str) -> bool:
    """The same offsets through a year (UTC and Etc/UTC are one zone)."""
    try:
        first, second = ZoneInfo(a), ZoneInfo(b)
    except (ZoneInfoNotFoundError, ValueError):
        return a == b
    start = datetime(2026, 1, 1)
    return all((start + timedelta(days=d)).replace(tzinfo=first).utcoffset()
               == (start + timedelta(days=d)).replace(tzinfo=second).utcoffset() for d in range(0, 365, 7))


def check_time_zone() -> Finding:
    cron_zone = cron_time_zone()
    if _same_zone(cron_zone, settings.TIME_ZONE):
        return Finding("time zone", True, f"cron runs in {cron_zone}, the site's TIME_ZONE is {settings.TIME_ZONE}")
    return Finding("time zone", False, f"cron runs in {cron_zone} but TIME_ZONE is {settings.TIME_ZONE}: the "
                   "schedule's times and the site's days disagree (and what `jobs` shows as due)",
                   f"set TIME_ZONE={cron_zone} in the environment file, or the machine's zone to "
                   f"{settings.TIME_ZONE} (`timedatectl set-timezone {settings.TIME_ZONE}`)")


def check_lock_connection() -> Finding:
    if not uses_postgres():
        return Finding("lock connection", True, "SQLite: file locks under JOBS_LOCK_DIR")
    try:
        locks = PostgresLocks()
        try:
            locks.try_lock(DOCTOR_LOCK_KEY)
        finally:
            locks.close()
    except LockNotExclusive as exc:
        return Finding("lock connection", False, str(exc),
                       "JOBS_LOCK_DATABASE_URL=postgres://… of the server itself, not the pooler's port")
    target = lock_connection().settings_dict  # not connected: only its address is read
    where = f"{target['HOST'] or 'local'}:{target['PORT'] or 5432}"
    return Finding("lock connection", True, f"advisory locks on {where} keep their session")


DOCTOR_LOCK_KEY = -7_355_608  # a key of its own, so the check never touches a job's lock
