from pathlib import Path

from ask.jobs.command import JobCommand
from ask.qa.stackexchange import DumpProblem, stackexchange_import


class Command(JobCommand):
    examples = (
        "/srv/dumps/cooking.stackexchange.com --source cooking",
    )
    help = (
        "Import a Stack Exchange data dump folder (Posts.xml required; Users.xml, Tags.xml, Votes.xml "
        "used when present) into users, questions, answers, tags, votes and accepted answers. Streams "
        "the XML; running it again updates what it made and adds nothing twice."
    )
    operator_errors = (DumpProblem,)

    def add_job_arguments(self, parser) -> None:
        parser.add_argument("folder", help="The unpacked dump folder.")
        parser.add_argument("--source", help="Name of the dump's site (default: the folder's name).")

    def run(self, job) -> str:
        report = stackexchange_import(folder=Path(job.options["folder"]), source=job.options["source"])
        for name in ("users", "questions", "answers", "votes", "accepted"):
            job.count(name, getattr(report, name))
        for reason, count in report.skipped.items():
            job.count(f"skipped: {reason}", count)
        skipped = ", ".join(f"{count} {reason}" for reason, count in report.skipped.items()) or "nothing"
        return (f"{report.questions} new questions, {report.answers} new answers, {report.users} new users, "
                f"{report.votes} votes, {report.accepted} accepted; skipped {skipped}; "
                f"{report.questions_in_all} questions in all")
