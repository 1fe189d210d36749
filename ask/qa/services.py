"""Writes of the Q&A site: questions, answers, votes, the accepted answer."""
import logging

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from ask.core.caching import bump
from ask.core.outbox import mail_queue
from ask.qa.cache_keys import LISTS_VERSION, question_version
from ask.qa.models import Answer, AnswerVote, Question, QuestionVote, Tag
from ask.qa.text import render_markdown

logger = logging.getLogger(__name__)


def question_create(*, author: User, title: str, text: str, tag_names: list[str]) -> Question:
    now = timezone.now()
    with transaction.atomic():
        question = Question.objects.create(
            author=author, title=title.strip(), text=text, text_html=render_markdown(text), created_at=now,
        )
        tags = [Tag.objects.get_or_create(name=name)[0] for name in tag_names]
        question.tags.set(tags)
        transaction.on_commit(lambda: bump(LISTS_VERSION))
    return question


def answer_create(*, author: User, question: Question, text: str, question_url: str) -> Answer:
    """Add an answer and queue the mail that tells the question's author."""
    now = timezone.now()
    with transaction.atomic():
        answer = Answer.objects.create(
            question=question, author=author, text=text, text_html=render_markdown(text), created_at=now,
        )
        Question.objects.filter(pk=question.pk).update(answer_count=F("answer_count") + 1)
        if question.author_id != author.pk:
            context = {"question": question, "answer": answer, "url": question_url}
            mail_queue(
                to=question.author.email,
                subject=render_to_string("ask/email/new_answer_subject.txt", context).strip(),
                body=render_to_string("ask/email/new_answer.txt", context),
            )
        transaction.on_commit(lambda: bump(LISTS_VERSION, question_version(question.pk)))
    return answer


class VoteRefused(Exception):
    """A vote that is not allowed (on one's own post)."""


def vote_cast(*, user: User, target: Question | Answer, value: int) -> int:
    """Set the user's vote on a question or answer to +1, -1 or 0 (withdrawn); returns the new rating.

    The vote row is locked and the rating moved by the difference in one UPDATE, so concurrent votes
    keep the rating exact; the unique constraint makes a second row impossible.
    """
    if value not in (-1, 0, 1):
        raise ValueError("a vote is +1, -1 or 0")
    if target.author_id == user.pk:
        raise VoteRefused("You cannot vote on your own post.")
    is_question = isinstance(target, Question)
    votes = QuestionVote.objects if is_question else AnswerVote.objects
    field = "question" if is_question else "answer"
    question_id = target.pk if is_question else target.question_id
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                vote = votes.select_for_update().filter(user=user, **{field: target}).first()
                old = vote.value if vote else 0
                if value == old:
                    return type(target).objects.values_list("rating", flat=True).get(pk=target.pk)
                if value == 0:
                    vote.delete()
                elif vote:
                    vote.value = value
                    vote.save(update_fields=["value"])
                else:
                    votes.create(user=user, value=value, created_at=timezone.now(), **{field: target})
                type(target).objects.filter(pk=target.pk).update(rating=F("rating") + (value - old))
                transaction.on_commit(lambda: bump(question_version(question_id)))
                return type(target).objects.values_list("rating", flat=True).get(pk=target.pk)
        except IntegrityError:
            if attempt == 2:  # the same user's first vote raced in from another request
                raise
    raise AssertionError("unreachable")


def answer_accept_toggle(*, user: User, answer: Answer) -> bool:
    """Mark the answer as the question's correct one, or unmark it; only the question's author may."""
    with transaction.atomic():
        # Answers before their question, the order vote_cast locks them in (no deadlock).
        involved = Answer.objects.select_for_update().filter(
            Q(pk=answer.pk) | Q(question_id=answer.question_id, is_accepted=True)
        ).order_by("pk")
        answer = next((a for a in involved if a.pk == answer.pk), None)
        if answer is None:
            raise Answer.DoesNotExist("The answer was deleted meanwhile.")
        if answer.hidden_at is not None:  # hidden by a moderator since the page was shown
            raise PermissionDenied("This answer is hidden.")
        question = Question.objects.select_for_update().get(pk=answer.question_id)
        if question.author_id != user.pk:
            raise PermissionDenied("Only the question's author can accept an answer.")
        accept = not answer.is_accepted
        if accept:
            Answer.objects.filter(question=question, is_accepted=True).update(is_accepted=False)
        Answer.objects.filter(pk=answer.pk).update(is_accepted=accept)
        question.has_accepted = accept
        question.save(update_fields=["has_accepted"])
        transaction.on_commit(lambda: bump(LISTS_VERSION, question_version(question.pk)))
    return accept


def question_url(question: Question) -> str:
    return reverse("question", args=[question.pk])


def post_url(post: Question | Answer) -> str:
    """Where a question or an answer is shown: its question's page, at the answer."""
    if isinstance(post, Question):
        return question_url(post)
    return f"{question_url(post.question)}#answer-{post.pk}"


