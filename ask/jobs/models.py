"""The record of every run of a background job."""
from django.db import models


class JobRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"  # started and not finished; if its process died (kill -9) it is shown as dead
        OK = "ok"  # finished without error
        FAILED = "failed"  # raised, was terminated or interrupted; `error` says why
        SKIPPED = "skipped"  # another run held the lock or had claimed the slot, so this one did nothing
        MISSED = "missed"  # no host ran this slot (written by catch_up_jobs; started_at is the slot)

    job = models.CharField(max_length=100)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    arguments = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    counters = models.JSONField(default=dict, blank=True)  # e.g. {"deleted": 120}
    summary = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)  # the one-line reason and, for bugs, the traceback
    # The schedule time a scheduled run was started for (ask.jobs.slots); None for runs by hand.
    slot = models.DateTimeField(null=True, blank=True)
    catch_up = models.BooleanField(default=False)  # made up by catch_up_jobs for a missed slot

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # Serves "last run / last success of job X" (jobs command, /healthz) and pruning by age.
            models.Index(fields=["job", "status", "-started_at"], name="jobs_run_job_status_started"),
            models.Index(fields=["started_at"], name="jobs_run_started"),
            models.Index(fields=["job", "slot"], name="jobs_run_job_slot"),
        ]
        constraints = [
            # The claim of a slot: of the runs started for one schedule time, one works.
            models.UniqueConstraint(
                fields=["job", "slot"], name="jobs_run_one_per_slot",
                condition=models.Q(slot__isnull=False) & ~models.Q(status__in=["skipped", "missed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job} #{self.pk} ({self.status})"

    # Records that are not runs of the job: skipped (another had the lock or the slot), missed slots.
    NOT_RUNS = (Status.SKIPPED, Status.MISSED)

    @property
    def error_line(self) -> str:
        """The error's first line ("RuntimeError: sample failure"): what lists show."""
        return self.error.strip().splitlines()[0] if self.error.strip() else ""

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class JobLease(models.Model):
    """Which run of an exclusive job may write: the fence behind its advisory lock (ask.jobs.fencing).

    A run that takes the job's lock writes its id here; every transaction of that run checks, at
    commit and under this row's lock, that the id is still its own. A run whose lock was lost (its
    lock connection killed, PostgreSQL restarted) and was taken over can therefore commit nothing more.
    """

    job = models.CharField(max_length=100, primary_key=True)
    run_id = models.BigIntegerField()
    taken_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.job}: run {self.run_id}"


def judged_runs(job: str):
    """The records a job is judged by (`manage.py jobs`, /healthz) and pruning keeps the latest of:
    all but dry runs, which changed nothing and so are neither a run nor a success."""
    return JobRun.objects.filter(job=job, dry_run=False)
