from django.db import models


class SampleRow(models.Model):
    """What sample_job --write writes, one row per batch: which process wrote which row."""

    pid = models.IntegerField()
    row = models.IntegerField()
    written_at = models.DateTimeField(auto_now_add=True)
