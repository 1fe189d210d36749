from ask.jobs.command import JobCommand
from ask.qa.sidebar import sidebar_calculate


class Command(JobCommand):
    examples = (
        "   # refresh the popular tags and best members now",
    )
    help = (
        "Compute the sidebar: the 10 tags on the most questions of the last 90 days and the 10 members "
        "whose posts received the most votes in the last 7 days. Stores them in the cache and in the "
        "database snapshot, so pages never run this query themselves."
    )
    catch_up = "once"  # a fresh sidebar now, not in up to 10 minutes
    expected_seconds = 300
    changes_data = True

    def run(self, job) -> str:
        figures = sidebar_calculate(dry_run=job.dry_run, expect=job.expect)
        for tag in figures["tags"]:
            job.detail(f"tag {tag['name']}: {tag['count']} questions")
        for member in figures["members"]:
            job.detail(f"member {member['display_name']}: {member['rating']:+d}")
        job.count("tags", len(figures["tags"]))
        job.count("members", len(figures["members"]))
        top = figures["tags"][0]["name"] if figures["tags"] else "none"
        return f"{len(figures['tags'])} popular tags (top: {top}), {len(figures['members'])} best members"
