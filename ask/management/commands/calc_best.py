from ask.jobs.command import JobCommand
from ask.ratings import best_calculate


class Command(JobCommand):
    help = (
        "Compute the sidebar: the 10 tags on the most questions of the last 90 days and the 10 members "
        "whose posts received the most votes in the last 7 days. Stores them in the cache and in the "
        "database snapshot, so pages never run this query themselves."
    )
    changes_data = True

    def run(self, job) -> str:
        best = best_calculate(dry_run=job.dry_run)
        for tag in best["tags"]:
            job.detail(f"tag {tag['name']}: {tag['count']} questions")
        for member in best["members"]:
            job.detail(f"member {member['display_name']}: {member['rating']:+d}")
        job.count("tags", len(best["tags"]))
        job.count("members", len(best["members"]))
        top = best["tags"][0]["name"] if best["tags"] else "none"
        return f"{len(best['tags'])} popular tags (top: {top}), {len(best['members'])} best members"
