from django.conf import settings
from django.core.management.base import CommandError
from django.test import Client

from ask.core.caching import cache_servers_down
from ask.jobs.command import JobCommand
from ask.qa.warming import hottest_urls, page_warm


class Command(JobCommand):
    examples = (
        "-v2   # which pages it rendered",
    )
    help = (
        "Fill the caches of the hottest pages (first pages of the new and hot lists, the top tags, the "
        "100 best-rated questions) by fetching them as an anonymous visitor. Run after a deploy or a "
        "cache flush; the pages then load at cached speed from the first visitor on."
    )

    def run(self, job) -> str:
        down = cache_servers_down()
        if down and len(down) == len(settings.MEMCACHED_SERVERS):
            raise CommandError(f"memcached does not answer: {', '.join(down)}; nothing warmed")
        for server in down:
            job.stderr.write(f"warmcache: memcached {server} does not answer; the pages it holds are not warmed")
        client = Client()
        urls = hottest_urls()
        for url in job.progress(urls, total=len(urls), desc="pages", unit="pages"):
            status = page_warm(url, client)
            job.count("warmed" if status == 200 else f"status {status}")
            job.detail(f"{status} {url}")
        failed = sum(v for k, v in job.counters.items() if k != "warmed")
        if failed:
            raise RuntimeError(f"{failed} of {len(urls)} pages did not answer 200: {job.counters}")
        return f"warmed {len(urls)} pages"
