"""The sidebar: popular tags and best members, computed by calc_sidebar every 10 minutes, read by
every page from the cache (or from its snapshot row when the cache is cold), never computed there.

Rules:
- popular tags: the 10 tags on the most questions asked in the last 90 days (ties: name);
- best members: the 10 members whose questions and answers received the highest sum of votes
  (+1/-1) cast in the last 7 days, counting only members with a positive sum (ties: lower user id).
Hidden posts (ask.qa.moderation) count for neither; suspended (inactive) members are not listed.
"""
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.db.models import Count, Sum
from django.db.models.functions import Now
from django.utils import timezone

from accounts.models import User
from ask.qa.cache_keys import SIDEBAR, SIDEBAR_FRAGMENT
from ask.qa.models import AnswerVote, Question, QuestionVote, SidebarSnapshot, Tag

TOP = 10
POPULAR_TAG_DAYS = 90
BEST_MEMBER_DAYS = 7


def popular_tags(now: datetime) -> list[dict]:
    since = now - timedelta(days=POPULAR_TAG_DAYS)
    rows = (Tag.objects.filter(questions__created_at__gte=since, questions__hidden_at=None)
            .annotate(count=Count("questions"))
            .order_by("-count", "name").values("name", "count")[:TOP])
    return list(rows)


def best_members(now: datetime) -> list[dict]:
    since = now - timedelta(days=BEST_MEMBER_DAYS)
    received: dict[int, int] = {}
    for model, post in ((QuestionVote, "question"), (AnswerVote, "answer")):
        author = f"{post}__author"
        votes = (model.objects.filter(created_at__gte=since, **{f"{post}__hidden_at": None})
                 .values(author).annotate(total=Sum("value")))
        for author_id, total in votes.values_list(author, "total"):
            received[author_id] = received.get(author_id, 0) + total
    # Three times the places, so a few suspended members (inactive) among them leave the list full.
    ranked = sorted(((-total, pk) for pk, total in received.items() if total > 0))[:TOP * 3]
    names = dict(User.objects.filter(pk__in=[pk for _, pk in ranked], is_active=True)
                 .values_list("pk", "display_name"))
    return [{"id": pk, "display_name": names[pk], "rating": -negative}
            for negative, pk in ranked if pk in names][:TOP]


def sidebar_calculate(*, dry_run: bool = False, expect=None) -> dict:
    """Compute the sidebar; store it in the snapshot row and the cache, and drop the old fragment.

    expect(condition, message), the job's check, is asked first whether an empty list of popular
    tags is believable: tagged questions asked in the period by the database's clock make it a
    fault (this host's clock wrong, a broken join), and the sidebar is not replaced by an empty one."""
    now = timezone.now()
    figures = {"tags": popular_tags(now), "members": best_members(now)}
    if expect is not None and not figures["tags"]:
        period = timedelta(days=POPULAR_TAG_DAYS)
        tagged = Question.objects.filter(created_at__gte=Now() - period, tags__isnull=False).exists()
        expect(not tagged, f"found no popular tags, yet tagged questions were asked in the last "
                           f"{POPULAR_TAG_DAYS} days by the database's clock (is this host's clock "
                           f"right? it says {now:%Y-%m-%d %H:%M}); the sidebar was left as it was")
    if not dry_run:
        SidebarSnapshot.objects.update_or_create(pk=1, defaults={"computed_at": now, **figures})
        cache.set(SIDEBAR, figures, timeout=None)
        cache.delete(make_template_fragment_key(SIDEBAR_FRAGMENT))
    return figures


def sidebar() -> dict:
    """What calc_sidebar computed: from the cache, or from its snapshot when the cache is cold."""
    figures = cache.get(SIDEBAR)
    if figures is None:
        snapshot = SidebarSnapshot.objects.filter(pk=1).first()
        figures = {"tags": snapshot.tags, "members": snapshot.members} if snapshot else {"tags": [], "members": []}
        if snapshot:
            cache.set(SIDEBAR, figures, timeout=None)
    return figures
