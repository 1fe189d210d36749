"""Moderation: members flag posts, staff hide or restore them and suspend members, purge_spam deletes
what was hidden as spam once its grace period is over.

A hidden post leaves every list, search, profile and question page on commit (the same version keys
the pages are cached under) and the sidebar is computed again at once. A hidden answer is taken off
its question's answer count and accepted flag, as a deleted one is, and put back on restore.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from ask.core.caching import bump
from ask.qa.cache_keys import LISTS_VERSION, question_version
from ask.qa.models import Answer, Flag, FlagReason, PurgedPost, Question
from ask.qa.sidebar import sidebar_calculate

logger = logging.getLogger(__name__)
Post = Question | Answer


class ModerationRefused(Exception):
    """A flag or moderation step that cannot be made; the message says why, for the person asking."""


def _field(post: Post) -> str:
    return "question" if isinstance(post, Question) else "answer"


def _question_id(post: Post) -> int:
    return post.pk if isinstance(post, Question) else post.question_id


def _pages_stale(*posts: Post) -> None:
    """On commit: the pages showing these posts go stale and the sidebar is computed again."""
    versions = {question_version(_question_id(post)) for post in posts}
    transaction.on_commit(lambda: (bump(LISTS_VERSION, *versions), _sidebar_again()))


def _sidebar_again() -> None:
    """The sidebar without the hidden posts' votes, now (seconds at fill_db 10000, a staff action);
    should it fail (a statement timeout), the hide stands and calc_sidebar catches up within 10 min."""
    try:
        sidebar_calculate()
    except Exception:
        logger.exception("moderation: the sidebar could not be computed again; calc_sidebar will")


def flag_create(*, user: User, post: Post, reason: str) -> None:
    """Record the member's flag; a second flag of the same post by the same member is refused."""
    if reason not in FlagReason.values:
        raise ModerationRefused("Choose why: spam, offensive or off-topic.")
    if post.author_id == user.pk:
        raise ModerationRefused("You cannot flag your own post; edit or delete it instead.")
    try:
        with transaction.atomic():
            Flag.objects.create(user=user, reason=reason, created_at=timezone.now(), **{_field(post): post})
    except IntegrityError:
        raise ModerationRefused("You have flagged this post already.") from None


def _locked(post: Post) -> Post:
    try:
        return type(post).objects.select_for_update().get(pk=post.pk)
    except type(post).DoesNotExist:
        raise ModerationRefused("The post was deleted meanwhile.") from None


def _move_counters(answer: Answer, step: int) -> None:
    """Take a hidden answer off its question's counters (-1), or put a restored one back (+1)."""
    # Never below zero, even on a counter found wrong (recalc_ratings repairs it): a CHECK guards it.
    changes = {"answer_count": Greatest(F("answer_count") + step, 0)}
    if answer.is_accepted:
        changes["has_accepted"] = step > 0
    Question.objects.filter(pk=answer.question_id).update(**changes)


def post_hide(*, post: Post, reason: str) -> bool:
    """Hide the post (staff); its open flags are resolved. False when it was hidden already."""
    if reason not in FlagReason.values:
        raise ModerationRefused("Choose why: spam, offensive or off-topic.")
    with transaction.atomic():
        hidden = _hide(post, reason)
        _pages_stale(post)
    return hidden


def _hide(post: Post, reason: str) -> bool:
    post = _locked(post)
    if post.hidden_at is not None:
        return False
    post.hidden_at, post.hidden_reason = timezone.now(), reason
    post.save(update_fields=["hidden_at", "hidden_reason"])
    if isinstance(post, Answer):
        _move_counters(post, -1)
    flags_resolve(post=post)
    return True


def post_restore(*, post: Post) -> bool:
    """Show a hidden post again (staff). False when it was not hidden."""
    with transaction.atomic():
        post = _locked(post)
        if post.hidden_at is None:
            return False
        post.hidden_at, post.hidden_reason = None, ""
        post.save(update_fields=["hidden_at", "hidden_reason"])
        if isinstance(post, Answer):
            _move_counters(post, +1)
        _pages_stale(post)
    return True


def flags_resolve(*, post: Post) -> int:
    """Close the post's open flags (dismissed, or handled by hiding it); returns how many."""
    return Flag.objects.filter(resolved_at=None, **{_field(post): post}).update(resolved_at=timezone.now())


def member_suspend(*, member: User, hide_posts: bool) -> int:
    """Suspend a member: logged out everywhere at their next request and unable to log in again
    (is_active off; activated_at stays set, so cleanup never takes them for an abandoned sign-up).
    hide_posts hides every post of theirs as spam. Returns how many posts were hidden."""
    if member.is_staff:
        raise ModerationRefused("Staff members are suspended in the admin, not here.")
    posts = []
    with transaction.atomic():
        User.objects.filter(pk=member.pk).update(is_active=False)
        if hide_posts:
            posts = [*Question.objects.filter(author=member, hidden_at=None).order_by("pk"),
                     *Answer.objects.filter(author=member, hidden_at=None).order_by("pk")]
        hidden = sum(_hide(post, FlagReason.SPAM) for post in posts)
        _pages_stale(*posts)
    logger.info("suspended member %s, %s posts hidden", member.pk, hidden)
    return hidden


def purgeable(now=None) -> tuple[QuerySet[Question], QuerySet[Answer]]:
    """Posts hidden as spam for longer than QA_SPAM_GRACE_DAYS: what purge_spam deletes. A question
    another member answered (and whose answer is not hidden) stays hidden instead: deleting it would
    take their answer with it."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.QA_SPAM_GRACE_DAYS)
    spam = {"hidden_reason": FlagReason.SPAM, "hidden_at__lt": cutoff}
    others = Answer.objects.filter(question=OuterRef("pk"), hidden_at=None).exclude(author=OuterRef("author"))
    questions = Question.objects.filter(**spam).filter(~Exists(others)).order_by("pk")
    return questions, Answer.objects.filter(**spam).order_by("pk")


def _record(post: Post, now) -> PurgedPost:
    question = post if isinstance(post, Question) else post.question
    return PurgedPost(kind=_field(post), post_id=post.pk, author_id=post.author_id, title=question.title,
                      excerpt=post.text[:200], hidden_at=post.hidden_at, purged_at=now)


def spam_purge(*, batch_size: int, on_batch=None) -> dict[str, int]:
    """Delete the purgeable posts batch_size at a time, each batch with its records in one
    transaction; rows are re-checked under their lock, so a post restored meanwhile stays."""
    deleted = {"question": 0, "answer": 0}
    for kind in (0, 1):  # questions first: their hidden answers go with them
        while True:
            with transaction.atomic():
                now = timezone.now()
                batch = purgeable(now)[kind].select_for_update(of=("self",), skip_locked=True)[:batch_size]
                batch = list(batch.select_related("question") if kind else batch)
                if not batch:
                    break
                PurgedPost.objects.bulk_create([_record(post, now) for post in batch])
                type(batch[0]).objects.filter(pk__in=[post.pk for post in batch]).delete()  # hidden: no page shows them
            deleted[_field(batch[0])] += len(batch)
            if on_batch:
                on_batch(len(batch))
    return deleted
