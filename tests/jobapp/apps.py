from django.apps import AppConfig


class JobAppConfig(AppConfig):
    """A sample job for exercising the job framework from tests."""

    name = "tests.jobapp"
    label = "jobapp"
