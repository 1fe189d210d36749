"""GET /metrics as Prometheus scrapes it: closed without the token; the jobs', the outbox's and the
orders' figures move as jobs run, mail is queued and sent, and orders come and run late."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from ask.core.outbox import mail_queue
from ask.jobs.locks import lock_connection, run_lock_class_id, run_lock_object_id
from ask.jobs.runner import JobFailed
from orders import clock
from orders.services import order_place
from tests.ask.jobs.factories import JobRunFactory
from tests.factories import UserFactory
from tests.orders.conftest import START
from tests.orders.factories import DishFactory

pytestmark = pytest.mark.django_db
TOKEN = {"HTTP_AUTHORIZATION": "Bearer metrics-secret"}


@pytest.fixture
def scrape(settings):
    settings.METRICS_TOKEN = "metrics-secret"
    settings.CRONJOBS = [("*/10 * * * *", "ask.jobs.cron.run", ["sample_job"])]

    def values() -> dict[tuple, float]:
        response = Client().get("/metrics", **TOKEN)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
        return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(response.content.decode()) for sample in family.samples}
    return values


def test_metrics_are_closed_without_the_token(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404, "off unless configured"
    settings.METRICS_TOKEN = "metrics-secret"
    assert Client().get("/metrics").status_code == 403
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer guess").status_code == 403
    assert Client().post("/metrics", **TOKEN).status_code == 405


def test_the_jobs_figures_move_as_a_job_runs_and_fails(scrape):
    success = ("ask_job_last_success_timestamp_seconds", (("job", "sample_job"),))
    assert success not in scrape() and scrape()[("ask_job_problem", (("job", "sample_job"),))] == 0
    call_command("sample_job", "--rows", "3", stdout=StringIO())
    after = scrape()
    assert after[success] > 0 and after[("ask_job_last_duration_seconds", (("job", "sample_job"),))] >= 0
    assert after[("ask_job_runs_last_day", (("job", "sample_job"), ("outcome", "ok")))] == 1
    with pytest.raises(JobFailed):
        call_command("sample_job", "--fail", stdout=StringIO(), stderr=StringIO())
    failed = scrape()
    assert failed[("ask_job_problem", (("job", "sample_job"),))] == 1
    assert failed[("ask_job_runs_last_day", (("job", "sample_job"), ("outcome", "failed")))] == 1


def test_a_looping_jobs_last_duration_is_its_last_finished_runs_and_a_dead_run_counts_as_dead(scrape):
    """A job looping 55 s of every minute has a run going at most scrapes: its duration is unknown."""
    now = timezone.now()
    JobRunFactory(job="sample_job", status="ok", started_at=now - timedelta(minutes=2),
                  finished_at=now - timedelta(minutes=2, seconds=-55))
    going = JobRunFactory(job="sample_job", status="running", started_at=now - timedelta(seconds=5))
    JobRunFactory(job="sample_job", status="running", started_at=now - timedelta(minutes=30))  # its process gone
    holder = lock_connection()
    with holder.cursor() as cursor:  # the going run's process holds its run lock, as a live run does
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [run_lock_class_id(), run_lock_object_id(going.pk)])
    try:
        values = scrape()
    finally:
        holder.close()
    assert values[("ask_job_last_duration_seconds", (("job", "sample_job"),))] == 55
    assert values[("ask_job_runs_last_day", (("job", "sample_job"), ("outcome", "running")))] == 1
    assert values[("ask_job_runs_last_day", (("job", "sample_job"), ("outcome", "dead")))] == 1


def test_the_outbox_figures_move_as_mail_is_queued_and_sent(scrape, smtp):
    smtp.start()
    assert scrape()[("ask_outbox_queued", ())] == 0
    mail_queue(to="ada@example.com", subject="Hello", body="Body")
    mail_queue(to="bob@example.com", subject="Hello", body="Body")
    queued = scrape()
    assert queued[("ask_outbox_queued", ())] == 2 and queued[("ask_outbox_oldest_due_age_seconds", ())] >= 0
    call_command("send_queued_mail", stdout=StringIO(), stderr=StringIO())
    sent = scrape()
    assert sent[("ask_outbox_queued", ())] == 0 and sent[("ask_outbox_oldest_due_age_seconds", ())] == 0


def test_the_orders_figures_count_orders_on_their_way_and_late_ones(scrape):
    with clock.frozen(START):
        order_place(customer=UserFactory(), cart={DishFactory().pk: 1}, eta=START + timedelta(hours=1), address="x")
        assert scrape()[("ask_orders_in_flight", (("status", "not_started"),))] == 1
        assert scrape()[("ask_orders_late", ())] == 0
    with clock.frozen(START + timedelta(hours=2)):
        assert scrape()[("ask_orders_late", ())] == 1, "past its delivery time"


def test_request_database_and_cache_figures_come_from_django_prometheus(scrape, settings):
    Client().get("/hot/")
    names = {name for name, _ in scrape()}
    assert "django_http_requests_total_by_method_total" in names
    assert "django_db_execute_total" in names, "the database backend is django-prometheus' wrapper"
    if "Memcache" in settings.CACHES["default"]["BACKEND"]:
        assert "django_cache_get_total" in names, "memcached gets counted (hits and misses)"


@pytest.mark.django_db(transaction=True)
def test_under_gunicorn_a_scrape_of_any_worker_sums_every_workers_requests(gunicorn_factory, var_dir):
    import urllib.request

    base = gunicorn_factory(workers=2, METRICS_TOKEN="metrics-secret", WEB_THREADS="1")
    for _ in range(20):
        urllib.request.urlopen(base + "/hot/").read()
    request = urllib.request.Request(base + "/metrics", headers={"Authorization": "Bearer metrics-secret"})
    totals = set()
    for _ in range(6):  # whichever worker answers, the same sum
        text = urllib.request.urlopen(request).read().decode()
        totals.add(sum(sample.value for family in text_string_to_metric_families(text)
                       for sample in family.samples
                       if sample.name == "django_http_requests_total_by_view_transport_method_total"
                       and sample.labels.get("view") == "hot"))
    assert totals == {20.0}, totals
    assert (var_dir / "prometheus").is_dir()


def test_every_metric_the_alert_rules_use_is_exported(scrape, settings):
    """scripts/prometheus-alerts.yml names only metrics /metrics has (a renamed gauge would silence an alert)."""
    import re

    from tests.support import ROOT

    Client().get("/hot/")
    call_command("sample_job", "--rows", "1", stdout=StringIO())
    exported = {name for name, _ in scrape()}
    rules = (ROOT / "scripts" / "prometheus-alerts.yml").read_text()
    used = set(re.findall(r"\b((?:ask|django)_[a-z_]+)\b", rules))
    assert used and used <= exported | {name.removesuffix("_total") for name in exported}, used - exported
