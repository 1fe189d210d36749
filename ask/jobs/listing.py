"""What `manage.py jobs` shows: the overview of the schedule and of the runs by hand, one job's
history and one run, each as a table for a terminal of 100 columns and as JSON for a monitor or a
script (the same facts, times in ISO 8601 with their offset)."""
from datetime import datetime

from django.utils import timezone

from ask.jobs.models import JobRun
from ask.jobs.selectors import JobState


def when(value: datetime | None) -> str:
    """Month, day and minute in TIME_ZONE: enough to tell runs apart in a table of this year's."""
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else "-"


def when_full(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z") if value else "-"


def took(run: JobRun | None) -> str:
    seconds = run.duration_seconds if run else None
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def table(rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell. The last column (flags, a summary or the first line of an
    error) is never cut: a cut error is the question unanswered ("why did it fail?"). The overview's
    columns before its flags fit in about 91 characters, the history's in about 50."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def job_label(state: JobState, states: list[JobState]) -> str:
    """The command's name, with its arguments only when the schedule runs it twice."""
    twice = sum(other.name == state.name for other in states) > 1
    return " ".join(state.scheduled.argv) if twice else state.name


def overview_rows(states: list[JobState], now: datetime) -> list[list[str]]:
    rows = [["JOB", "SCHEDULE", "LAST RUN", "TOOK", "STATUS", "LAST OK", "NEXT", "NOTES"]]
    for state in states:
        rows.append([
            job_label(state, states), state.scheduled.schedule, when(state.last_run and state.last_run.started_at),
            took(state.last_run), state.last_status if state.last_status == "ok" else state.last_status.upper(),
            when(state.last_success and state.last_success.started_at), when(state.scheduled.next_fire(now)),
            " ".join(state.notes),
        ])
    return rows


def by_hand_rows(runs: list[tuple[JobRun, str]]) -> list[list[str]]:
    rows = [["BY HAND", "RUN", "STARTED", "TOOK", "STATUS", "WHERE", "SUMMARY / ERROR"]]
    for run, shown in runs:
        rows.append([run.job, str(run.pk), when(run.started_at), took(run),
                     shown if shown == "ok" else shown.upper(), f"{run.host}:{run.pid}", outcome(run)])
    return rows


def history_rows(runs: list[tuple[JobRun, str]]) -> list[list[str]]:
    rows = [["RUN", "STARTED", "TOOK", "STATUS", "WHERE", "SUMMARY / ERROR"]]
    for run, shown in runs:
        status = f"{shown} (catch-up)" if run.catch_up else shown
        rows.append([str(run.pk), when(run.started_at), took(run), status + (" (dry run)" if run.dry_run else ""),
                     f"{run.host}:{run.pid}", outcome(run)])
    return rows


def outcome(run: JobRun) -> str:
    """The run's summary, or the first line of its error."""
    return run.summary or (run.error.splitlines()[0] if run.error else "")


def iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def run_json(run: JobRun | None, shown: str | None = None, *, full: bool = False) -> dict | None:
    if run is None:
        return None
    data = {"id": run.pk, "job": run.job, "status": shown or run.status, "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at), "duration_seconds": run.duration_seconds, "host": run.host,
            "pid": run.pid, "dry_run": run.dry_run, "catch_up": run.catch_up, "slot": iso(run.slot),
            "summary": run.summary, "error": run.error if full else outcome(run) if run.error else ""}
    if full:
        data.update(arguments=run.arguments, counters=run.counters)
    return data


def state_json(state: JobState, now: datetime) -> dict:
    return {"job": state.name, "arguments": list(state.scheduled.args), "schedule": state.scheduled.schedule,
            "status": state.last_status, "last_run": run_json(state.last_run, state.last_status),
            "last_success_at": iso(state.last_success and state.last_success.started_at),
            "next_at": iso(state.scheduled.next_fire(now)), "notes": state.notes, "problem": state.problem}


# The site's own lines under the overview (the backups' state, say): name -> probe returning
# (ok, detail, data) as /healthz's checks do; one not ok is a problem for --check too.
_notes: dict = {}


def register_note(name: str, probe) -> None:
    _notes[name] = probe


def notes() -> list[tuple[str, bool, str, dict]]:
    found = []
    for name, probe in _notes.items():
        try:
            ok, detail, data = probe()
        except Exception as exc:  # noqa: BLE001 - a note that cannot be read is said, the listing goes on
            ok, detail, data = False, f"could not check: {type(exc).__name__}: {exc}", {}
        found.append((name, ok, detail, data))
    return found
