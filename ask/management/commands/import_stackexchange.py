from pathlib import Path

from django.core.management.base import CommandError

from ask.cache_keys import BULK_VERSION, LISTS_VERSION
from ask.caching import bump
from ask.dataio.stackexchange import DumpProblem, Importer
from ask.jobs.command import JobCommand
from ask.models import Question
from ask.ratings import RECALC_BATCH_SIZE, ratings_recalculate


class Command(JobCommand):
    help = (
        "Import a Stack Exchange data dump folder (Posts.xml required; Users.xml, Tags.xml, Votes.xml "
        "used when present) into users, questions, answers, tags, votes and accepted answers. Streams "
        "the XML; running it again updates what it made and adds nothing twice."
    )

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("folder", help="The unpacked dump folder.")
        parser.add_argument("--source", help="Name of the dump's site (default: the folder's name).")

    def run(self, job) -> str:
        folder = Path(job.options["folder"])
        if not folder.is_dir():
            raise CommandError(f"{folder}: no such folder.")
        try:
            report = Importer(folder, job.options["source"] or folder.resolve().name).run()
        except DumpProblem as problem:
            raise CommandError(str(problem)) from None
        ratings_recalculate(batch_size=RECALC_BATCH_SIZE, dry_run=False)
        bump(LISTS_VERSION, BULK_VERSION)  # cached lists and question pages show the imported posts
        for name in ("users", "questions", "answers", "votes", "accepted"):
            job.count(name, getattr(report, name))
        for reason, count in report.skipped.items():
            job.count(f"skipped: {reason}", count)
        skipped = ", ".join(f"{count} {reason}" for reason, count in report.skipped.items()) or "nothing"
        return (f"{report.questions} new questions, {report.answers} new answers, {report.users} new users, "
                f"{report.votes} votes, {report.accepted} accepted; skipped {skipped}; "
                f"{Question.objects.count()} questions in all")
