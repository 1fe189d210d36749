"""The promises the rig checks after every fault, read from the rig's database, the SMTP sink and the
hosts' access logs. Each check returns a list of what broke (empty: the promise held)."""
import os
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_bytes

from croniter import croniter

from ask.jobs.schedule import job_traits, scheduled_jobs
from orders.states import ORDER_TRANSITIONS


def slots_once(rig, since: datetime, until: datetime) -> list[str]:
    """Every slot in [since, until) of every exclusive job of the schedule (settings.CRONJOBS, which
    `crontab add` installed on each host) ran exactly once across the hosts. A run killed outright
    still counts as its slot's run; one skipped because the run before still held the lock (a loop
    job, a frozen one) is covered by that run."""
    rows = rig.query("SELECT job, slot, status, summary FROM jobs_jobrun WHERE slot >= %s AND slot < %s",
                     (since, until))
    runs = Counter((job, slot) for job, slot, status, _ in rows if status not in ("skipped", "missed"))
    covered = {(job, slot) for job, slot, status, summary in rows if summary.startswith("already running")}
    broken = [f"{job} {slot:%H:%M} ran {count} times" for (job, slot), count in runs.items() if count > 1]
    for job in scheduled_jobs():
        if not job_traits(job.command).exclusive:
            continue
        fires = croniter(job.schedule, since - timedelta(microseconds=1))
        while (slot := fires.get_next(datetime)) < until:
            if not runs[(job.command, slot)] and (job.command, slot) not in covered:
                broken.append(f"{job.command} {slot:%H:%M} did not run")
    return broken


def orders_moved(rig, created_before: datetime) -> list[str]:
    """Every order placed before created_before has moved on, through allowed steps only."""
    broken = [f"order {pk} still not started" for (pk,) in rig.query(
        "SELECT id FROM orders_order WHERE status = 'not_started' AND created_at < %s", (created_before,))]
    steps: dict[int, list[tuple[str, str]]] = {}
    for order, before, after in rig.query("SELECT order_id, from_status, to_status FROM orders_orderevent "
                                          "ORDER BY order_id, at, id"):
        steps.setdefault(order, []).append((before, after))
    for order, chain in steps.items():
        current = "not_started"
        for before, after in chain:
            if (before or "not_started") != current or after not in ORDER_TRANSITIONS.get(current, set()):
                broken.append(f"order {order}: {before or 'not_started'} -> {after} after {current}")
            current = after
    return broken[:20]


def outside_calls_once(rig) -> tuple[list[str], int]:
    """No kitchen ticket or delivery made twice for one key; and how many calls were repeats (a call
    repeated with its key after its process died is answered with what the first one made)."""
    broken = [f"{table}: {count} made for key {key}" for table in ("orders_simkitchenticket", "orders_simdeliveryjob")
              for key, count in rig.query(f"SELECT idempotency_key, count(*) FROM {table} "
                                          "GROUP BY 1 HAVING count(*) > 1")]
    repeats = rig.query("SELECT count(*) - count(DISTINCT (kind, idempotency_key)) FROM orders_providercall")[0][0]
    return broken, repeats


def mail_once(rig, queued_before: datetime) -> tuple[list[str], int]:
    """Each mail queued before queued_before reached the sink, none lost; and how many arrived twice.
    SMTP cannot promise once: a sender that dies while the server takes a mail never hears its answer,
    so that one mail goes again (ask.core.outbox). So a second copy is allowed only for a sender that
    died (killed, cut off, its database restarted), one each; any other is broken."""
    ids = [message_from_bytes(envelope.content)["Message-ID"] for envelope in list(rig.smtp.messages)]
    received = Counter(ids)
    twice = [mid for mid, count in received.items() if count > 1]
    broken = [f"{mid} received {received[mid]} times" for mid in twice if received[mid] > 2]
    if len(twice) > _senders_died(rig):
        broken += [f"{mid} received twice, at " + ", ".join(
            f"{datetime.fromtimestamp(at, timezone.utc):%H:%M:%S.%f}" for other, at in zip(ids, rig.smtp.received_at)
            if other == mid) for mid in twice]
    for mid, subject in rig.query("SELECT message_id, subject FROM post_office_email WHERE created < %s",
                                  (queued_before,)):
        if not received[mid]:
            broken.append(f"{subject} ({mid}) never arrived")
    return broken[:20], len(twice)


def _senders_died(rig) -> int:
    """Sender runs that failed, or are recorded running and have no process (the rig's hosts share
    this machine's process ids)."""
    runs = rig.query("SELECT pid, status FROM jobs_jobrun WHERE job = 'send_queued_mail' "
                     "AND status IN ('running', 'failed')")
    return sum(1 for pid, status in runs if status == "failed" or not _alive(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def server_errors(rig, hosts: list[int], since: datetime) -> list[str]:
    """5xx answers in the access logs of the given hosts since then (gunicorn's default format)."""
    broken = []
    for n in hosts:
        log = rig.work / f"host{n}" / "access.log"
        for line in (log.read_text().splitlines() if log.exists() else []):
            when, status = _access(line)
            if when is None:
                broken.append(f"web{n}: access log line not understood: {line[:160]}")
            elif when >= since and status >= 500:
                broken.append(f"web{n}: {line[:160]}")
    return broken[:20]


def _access(line: str) -> tuple[datetime | None, int]:
    try:
        stamp = line.split("[", 1)[1].split("]", 1)[0]
        status = int(line.split('" ', 1)[1].split()[0])
        return datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z").astimezone(timezone.utc), status
    except (IndexError, ValueError):
        return None, 0


# (fault, what the site did, {promise: held}) for each fault the rig made; printed after the run.
REPORT: list[tuple[str, str, dict[str, bool]]] = []


def report_lines() -> list[str]:
    if not REPORT:
        return []
    names = list(REPORT[0][2])
    lines = [" | ".join(["fault".ljust(30), *names, "what the site did"])]
    for fault, did, held in REPORT:
        lines.append(" | ".join([fault.ljust(30), *("held".ljust(len(n)) if held[n] else "BROKEN".ljust(len(n))
                                                    for n in names), did]))
    return lines
