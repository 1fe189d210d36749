"""The Jobs pages in a real browser, on a phone and a desktop: a staff member goes from the overview
to a job and to one of its runs; nothing is wider than the screen."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.ask.jobs.factories import JobRunFactory
from tests.ask.qa.test_editing_browser import _look
from tests.ask.qa.test_qa_browser import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_staff_open_the_jobs_page_a_job_and_a_failed_run(live_server, page, width):
    UserFactory(email="staff@example.com", display_name="Staff", is_staff=True)
    now = timezone.now()
    for days_back in range(1, 12):  # a run or three a day, to chart
        for n in range(1 + days_back % 3):
            JobRunFactory(job="calc_stats", summary="2 day(s)", counters={"days": 2},
                          status="failed" if days_back == 4 and n == 1 else "ok",
                          started_at=now - timedelta(days=days_back, minutes=n),
                          finished_at=now - timedelta(days=days_back, minutes=n, seconds=-(2 + days_back % 5)))
    failed = JobRunFactory(job="calc_stats", status="failed", started_at=timezone.now(),
                           error="OperationalError: canceling statement due to statement timeout\n" + "Traceback "
                           "(most recent call last):\n  File \"/srv/ask/ask/stats/compute.py\", line 140, in "
                           "stats_calculate\n    " + "x" * 300)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server.url, "staff@example.com")
    page.get_by_role("link", name="Jobs", exact=True).click()
    # expect() waits: the click returns once the next page starts to arrive, not when it is all read.
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    expect(page.locator("main")).to_contain_text("calc_stats: last run failed at")
    _look(page, "jobs-overview", width)
    page.get_by_role("link", name="calc_stats").first.click()
    expect(page.get_by_role("heading", name="calc_stats")).to_be_visible()
    expect(page.locator("svg"), "runs by outcome, and how long they took").to_have_count(2)
    _look(page, "jobs-job", width)
    page.locator(f'a[href="/jobs/runs/{failed.pk}/"]').first.click()
    expect(page.locator("pre.run-error")).to_contain_text("canceling statement due to statement timeout")
    _look(page, "jobs-run", width)
