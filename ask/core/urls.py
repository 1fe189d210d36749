from django.urls import path

from ask.core import job_pages, metrics, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("jobs/", job_pages.jobs_overview, name="jobs"),
    path("jobs/runs/<int:pk>/", job_pages.run_page, name="job_run"),
    path("jobs/<slug:job>/", job_pages.job_page, name="job"),
]
