from django.core.management.base import CommandError
from django.db.models import Min

from ask.core.databases import database_label
from ask.core.backfill import statistics_backfill
from ask.jobs.command import JobCommand, positive_int_at_most
from ask.qa.filling import foreign_content, qa_fill
from ask.qa.models import Question
from ask.qa.sidebar import sidebar_calculate

# 1,000,000: ≈ 330M rows, ≈ 170 GB of database and ≈ 5 GB of memory for the plan (fill_db 100000 made
# 16.7 GB; the plan's arrays and the ids grow with the ratio).
MAX_RATIO = 1_000_000


def _counted(counts: dict) -> str:
    return ", ".join(f"{count:,} {name}" for name, count in counts.items())


class Command(JobCommand):
    examples = (
        "100 --seed 1   # about 100 users, 1,000 questions, 10,000 answers",
        "100 --clear --yes   # start over (refused without --yes on real content)",
    )
    help = (
        "Fill the Q&A site with realistic data: RATIO users, 10×RATIO questions, 100×RATIO answers, RATIO "
        "tags and about 200×RATIO votes, dated over the last year, ratings consistent with the votes. "
        "All in one transaction (COPY on PostgreSQL), --clear included: stopped half-way, it changes nothing."
    )

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("ratio", type=positive_int_at_most(MAX_RATIO),
                            help=f"Scale: 10000 gives about 3.2 million rows; at most {MAX_RATIO:,}.")
        parser.add_argument("--clear", action="store_true",
                            help="First delete every question, answer, tag and vote, and the users fill_db made. "
                                 "Refused when members wrote any of it, unless --yes.")
        parser.add_argument("--yes", action="store_true",
                            help="With --clear: yes, delete content that real members wrote too.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when there are questions already.")
        parser.add_argument("--seed", type=int, help="Random seed, for the same data set every time.")
        parser.add_argument("--no-stats", action="store_true",
                            help="Leave the statistics of the days filled to calc_stats --since (benchmarks).")

    def run(self, job) -> str:
        ratio, where = job.options["ratio"], database_label()
        if job.options["if_empty"] and Question.objects.exists():
            return "questions exist already; nothing done (--if-empty)"
        if job.options["clear"] and not job.options["yes"] and (theirs := foreign_content()):
            raise CommandError(
                f"--clear would delete content fill_db did not make in the {where}: {_counted(theirs)} by "
                "members; nothing done. Run again with --yes if that is what you want.")
        meter = job.meter(total=ratio * 311, desc="fill_db", unit="rows")  # ≈ rows written, votes may be fewer
        result = qa_fill(ratio=ratio, seed=job.options["seed"], progress=meter.update, clear=job.options["clear"])
        meter.close()
        fill_db_rate = result.rows / max(job.elapsed(), 1e-9)
        self._derived(job)
        for name, count in result.cleared.items():
            job.count(f"{name} deleted", count)
        for name in ("users", "tags", "questions", "answers", "votes"):
            job.count(name, getattr(result, name))
        cleared = f"deleted {_counted(result.cleared)}, then " if job.options["clear"] else ""
        return f"{where}: {cleared}wrote {result.rows:,} rows ({fill_db_rate:,.0f} rows/s)"

    def _derived(self, job) -> None:
        """The sidebar, and the statistics of the days filled (unless --no-stats)."""
        sidebar_calculate()
        if not job.options["no_stats"]:
            statistics_backfill(Question.objects.aggregate(first=Min("created_at"))["first"])
