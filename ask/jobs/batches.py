"""How a job works through many rows without holding locks or writing WAL for long."""
from typing import Callable

from django.db import transaction
from django.db.models import QuerySet


def delete_in_batches(queryset: QuerySet, *, batch_size: int, locked: bool = False,
                      on_batch: Callable[[list], None] | None = None) -> int:
    """Delete the queryset's rows batch_size at a time, each batch in a transaction of its own, so a
    large delete holds no lock and writes no WAL for long. Returns how many of the queryset's own
    rows went (rows deleted by cascade are not counted); on_batch(ids) is called after each batch.

    locked: pick each batch with FOR UPDATE SKIP LOCKED, so the queryset's conditions are checked
    again under the row lock and rows another transaction is changing are left for the next run.
    """
    deleted, model = 0, queryset.model
    while True:
        with transaction.atomic():
            batch = queryset.order_by("pk")
            if locked:
                batch = batch.select_for_update(of=("self",), skip_locked=True)
            ids = list(batch.values_list("pk", flat=True)[:batch_size])
            if not ids:
                return deleted
            deleted += model.objects.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)
        if on_batch:
            on_batch(ids)
