import factory
from django.utils import timezone

from ask.jobs.models import JobRun


class JobRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobRun

    job = "sample_job"
    host = "web1"
    pid = 4242
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyAttribute(lambda run: None if run.status == "running" else run.started_at)
    status = "ok"
