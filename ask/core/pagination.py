"""Pages of a long list, found without counting the list: what every paginated page uses."""
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThanOrEqual, TupleLessThanOrEqual
from django.http import Http404
from django.utils import timezone

from ask.core.models import ListTotal
from ask.core.params import whole_number


TOTAL_SECONDS = 300  # how long a list's counted total is used
# From this many rows on, a page is read from its first row's sort key instead of an OFFSET (below).
DEEP_ROWS = 2_000


@dataclass
class Window:
    """One page of results, found without counting them all."""

    object_list: list
    number: int
    has_next: bool
    last: int | None = None  # the number of the last page when a total is known (counted_total)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def numbers(self) -> list[int | None]:
        """Page numbers to link: the first, the last and two either side of this one; None for a gap."""
        last = max(self.last or self.number, self.number + (1 if self.has_next else 0))
        shown = sorted({1, last, *range(max(1, self.number - 2), min(last, self.number + 2) + 1)})
        numbers: list[int | None] = []
        for n in shown:
            if numbers and n - numbers[-1] > 1:
                numbers.append(None)
            numbers.append(n)
        return numbers


def counted_total(key: str, items, timeout: int = TOTAL_SECONDS) -> int:
    """How many items a list has, counted at most once per `timeout` seconds and list: numbered pages
    without a COUNT(*) on every request (45 ms at fill_db 10000, 340 ms at 100000). The cache keeps
    it, and so does a row of ListTotal, for when the cache has nothing (down, flushed): then one
    indexed read. The last page's number may be that much behind; the next and previous links never are."""
    total = cache.get(key)
    if total is not None:
        return total
    now = timezone.now()
    kept = ListTotal.objects.filter(key=key, counted_at__gt=now - timedelta(seconds=timeout)).first()
    if kept is not None:
        total = kept.total
    else:
        total = items.order_by().count()
        ListTotal.objects.bulk_create([ListTotal(key=key, total=total, counted_at=now)], update_conflicts=True,
                                      unique_fields=["key"], update_fields=["total", "counted_at"])  # one upsert
    cache.set(key, total, timeout)
    return total


def page_of(items, number: str | None, per_page: int, *, total: int | None = None) -> Window:
    """The page the user asked for: a missing number is page 1; anything else invalid is a 404.

    No COUNT(*): at fill_db 10000 counting the questions took 45 ms, 90% of the page. One row more
    than a page tells whether there is a next one.
    """
    page = whole_number(number) if number not in (None, "") else 1
    if page is None or not 1 <= page <= 9_999_999:
        raise Http404("No such page.")
    rows = _rows(items, (page - 1) * per_page, per_page + 1)
    if not rows and page > 1:
        raise Http404("No such page.")
    last = max(1, -(-total // per_page)) if total is not None else None
    return Window(rows[:per_page], page, len(rows) > per_page, last)


def _rows(items, offset: int, count: int) -> list:
    """items[offset:offset + count]. An OFFSET makes PostgreSQL build every row it skips, its joins
    and excerpt included: /?page=25000 of a million questions took 2.4 s. Deep in a list, the first
    row's sort key is found first, from the sort columns alone (an index-only scan of a partial
    index: ≈ 25 ms for 500,000 keys), and the page read from that key on, as the top page is."""
    keys = _sort_key(items)
    if keys is None or offset < DEEP_ROWS:
        return list(items[offset:offset + count])
    names, descending = keys
    first = list(items.prefetch_related(None).values_list(*names)[offset:offset + 1])
    if not first:
        return []
    from_first = (TupleLessThanOrEqual if descending else TupleGreaterThanOrEqual)(Tuple(*map(F, names)), first[0])
    return list(items.filter(from_first)[:count])


def _sort_key(items) -> tuple[list[str], bool] | None:
    """The list's sort columns and whether they run downwards, when a row comparison can stand in for
    an offset: plain columns of the model, none nullable, all one way, the last one unique."""
    query = getattr(items, "query", None)
    if (not isinstance(items, QuerySet) or query.combinator or query.distinct or query.is_sliced
            or query.extra_order_by or not query.standard_ordering):  # .reverse() flips what order_by says
        return None
    order = [o for o in query.order_by if isinstance(o, str)]
    if not order or len(order) != len(query.order_by) or len({o.startswith("-") for o in order}) > 1:
        return None
    names = [o.lstrip("-") for o in order]
    try:
        fields = [items.model._meta.pk if n == "pk" else items.model._meta.get_field(n) for n in names]
    except FieldDoesNotExist:
        return None
    if any(f.is_relation or f.null or not f.concrete for f in fields) or not fields[-1].unique:
        return None
    return names, order[0].startswith("-")
