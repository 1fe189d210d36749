"""Following tags and questions, and the digests send_digests mails: each one exactly once.

Each member's digest covers what was created between their watermark (Digest.sent_until) and the
run's cut-off; the mail is queued in the outbox and the watermark moved in one transaction, under the
member's row lock taken with SKIP LOCKED. So a crash loses nothing (the transaction rolls back, the
next run sends it), a re-run finds nobody due, and two runs on two hosts never take the same member.
The cut-off lies CUTOFF_MARGIN in the past: a post whose transaction began before it but committed
after the digest read would otherwise fall between two digests.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from ask.core.outbox import mail_queue
from ask.qa.models import Answer, Digest, DigestFrequency, Question, QuestionFollow, Tag, TagFollow

CUTOFF_MARGIN = timedelta(minutes=5)  # far longer than any web transaction (statement timeout 10 s)
# A member is due once this long has passed since their last digest's cut-off: a daily run at 06:13
# finds yesterday's 06:08 cut-off due even if yesterday's run started a little late.
DUE_AFTER = {DigestFrequency.DAILY: timedelta(hours=20), DigestFrequency.WEEKLY: timedelta(days=6, hours=20)}
ITEMS = 20  # questions and answers each shown at most in one digest; the rest are counted
UNSUBSCRIBE_SALT = "ask.qa.digests.unsubscribe"


def digest_of(user: User) -> Digest:
    """The member's digest settings, made (daily, starting now) the first time they are needed."""
    digest, _ = Digest.objects.get_or_create(user=user, defaults={"sent_until": timezone.now()})
    return digest


def _follow(model, follow: bool, **fields) -> None:
    """Follow (made idempotent by the unique constraint) or unfollow; following starts the digest."""
    if not follow:
        model.objects.filter(**fields).delete()
        return
    digest_of(fields["user"])
    try:
        with transaction.atomic():
            model.objects.create(created_at=timezone.now(), **fields)
    except IntegrityError:
        pass  # followed already


def tag_follow(*, user: User, tag: Tag, follow: bool) -> None:
    _follow(TagFollow, follow, user=user, tag=tag)


def question_follow(*, user: User, question: Question, follow: bool) -> None:
    _follow(QuestionFollow, follow, user=user, question=question)


def unsubscribe_token(user: User) -> str:
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT, compress=True)


def _token_user_pk(token: str) -> int | None:
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return pk if isinstance(pk, int) else None


def unsubscribe_token_valid(token: str) -> bool:
    return _token_user_pk(token) is not None


def digest_unsubscribe(token: str) -> User | None:
    """Turn the token's member's digest off; None for a token that is not ours."""
    pk = _token_user_pk(token)
    user = User.objects.filter(pk=pk).first() if pk is not None else None
    if user:
        Digest.objects.filter(user=user).update(frequency=DigestFrequency.OFF)
    return user


def due(cutoff: datetime) -> QuerySet[Digest]:
    """The digests due at this cut-off."""
    conditions = Q()
    for frequency, after in DUE_AFTER.items():
        conditions |= Q(frequency=frequency, sent_until__lte=cutoff - after)
    return Digest.objects.filter(conditions, user__is_active=True)


@dataclass
class DigestContent:
    questions: list[Question]
    answers: list[Answer]
    more_questions: int
    more_answers: int

    def __bool__(self) -> bool:
        return bool(self.questions or self.answers)


def content(user: User, since: datetime, until: datetime) -> DigestContent:
    """New questions in the member's tags and new answers on the questions they asked or follow, by others."""
    window = {"created_at__gt": since, "created_at__lte": until, "hidden_at": None}
    questions = (Question.objects.filter(tags__followers__user=user, **window).exclude(author=user).distinct()
                 .order_by("-created_at").only("pk", "title", "created_at"))
    theirs = Q(question__author=user) | Q(question__in=QuestionFollow.objects.filter(user=user).values("question"))
    answers = (Answer.objects.filter(theirs, question__hidden_at=None, **window)
               .exclude(author=user).select_related("question", "author").order_by("-created_at"))
    shown_questions, shown_answers = list(questions[:ITEMS + 1]), list(answers[:ITEMS + 1])
    return DigestContent(
        shown_questions[:ITEMS], shown_answers[:ITEMS],
        questions.count() - ITEMS if len(shown_questions) > ITEMS else 0,
        answers.count() - ITEMS if len(shown_answers) > ITEMS else 0,
    )


def _mail(user: User, found: DigestContent, frequency: str) -> None:
    unsubscribe = settings.ASK_SITE_URL + reverse("digest_unsubscribe", args=[unsubscribe_token(user)])
    context = {"user": user, "found": found, "site": settings.ASK_SITE_URL, "unsubscribe": unsubscribe,
               "frequency": frequency, "settings_url": settings.ASK_SITE_URL + reverse("digest_settings")}
    mail_queue(to=user.email, subject=render_to_string("ask/email/digest_subject.txt", context).strip(),
               body=render_to_string("ask/email/digest.txt", context),
               headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


def digest_send_one(digest_pk: int, cutoff: datetime) -> bool | None:
    """One member's digest: True mailed, False nothing new (watermark moved all the same), None when
    another run holds or has just done this member."""
    with transaction.atomic():
        digest = due(cutoff).filter(pk=digest_pk).select_related("user").select_for_update(
            of=("self",), skip_locked=True).first()
        if digest is None:
            return None
        found = content(digest.user, digest.sent_until, cutoff)
        if found:
            _mail(digest.user, found, digest.frequency)
            digest.last_mailed_at = timezone.now()
        digest.sent_until = cutoff
        digest.save(update_fields=["sent_until", "last_mailed_at"])
        return bool(found)


def digests_due_preview(*, now: datetime | None = None) -> list[tuple[User, DigestContent]]:
    """What a run now would mail (--dry-run): each due member with something new, and what; nothing moves."""
    cutoff = (now or timezone.now()) - CUTOFF_MARGIN
    due_now = due(cutoff).select_related("user").order_by("sent_until", "pk")
    return [(digest.user, found) for digest in due_now if (found := content(digest.user, digest.sent_until, cutoff))]


def digests_send(*, now: datetime | None = None, on_member=None) -> dict[str, int]:
    """Send every due digest; returns how many were mailed, empty (nothing new) and taken by another run."""
    cutoff = (now or timezone.now()) - CUTOFF_MARGIN
    counts = {"mailed": 0, "nothing new": 0, "taken by another run": 0}
    for pk in list(due(cutoff).order_by("sent_until", "pk").values_list("pk", flat=True)):
        result = digest_send_one(pk, cutoff)
        counts["mailed" if result else "nothing new" if result is False else "taken by another run"] += 1
        if on_member:
            on_member(result)
    return counts
