from ask.jobs.command import JobCommand, positive_int
from ask.qa.filling import qa_clear, qa_fill
from ask.qa.models import Question
from ask.qa.sidebar import sidebar_calculate


class Command(JobCommand):
    help = (
        "Fill the Q&A site with realistic data: RATIO users, 10×RATIO questions, 100×RATIO answers, RATIO "
        "tags and about 200×RATIO votes, dated over the last year, ratings consistent with the votes. "
        "All in one transaction (COPY on PostgreSQL): stopped half-way, it leaves nothing."
    )

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("ratio", type=positive_int, help="Scale: 10000 gives about 3.2 million rows.")
        parser.add_argument("--clear", action="store_true",
                            help="First delete every question, answer, tag and vote, and the users fill_db made.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when there are questions already.")
        parser.add_argument("--seed", type=int, help="Random seed, for the same data set every time.")

    def run(self, job) -> str:
        ratio = job.options["ratio"]
        if job.options["if_empty"] and Question.objects.exists():
            return "questions exist already; nothing done (--if-empty)"
        if job.options["clear"]:
            for name, count in qa_clear().items():
                job.count(f"{name} deleted", count)
        meter = job.meter(total=ratio * 311, desc="fill_db", unit="rows")  # ≈ rows written, votes may be fewer
        result = qa_fill(ratio=ratio, seed=job.options["seed"], progress=meter.update)
        meter.close()
        sidebar_calculate()
        for name in ("users", "tags", "questions", "answers", "votes"):
            job.count(name, getattr(result, name))
        seconds = job.elapsed()
        return f"wrote {result.rows:,} rows ({result.rows / max(seconds, 1e-9):,.0f} rows/s)"
