"""Authors edit and delete their own posts; every edit keeps the version before it (ask.qa.models.Revision).

Each service locks the post's row, so two edits of one post (two tabs, a double click) are numbered
one after the other and never lose a version. Caches go stale on commit through the same version keys
the pages are cached under; PostgreSQL's search vector follows title and text by its trigger (0002).
"""
from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from ask.core.caching import bump
from ask.qa.cache_keys import LISTS_VERSION, question_version
from ask.qa.models import Answer, Question, Revision, Tag
from ask.qa.text import render_markdown


class EditRefused(Exception):
    """An edit or delete the member may not make; the message says why, for the member."""


def _check_author(user: User, post: Question | Answer) -> None:
    if post.author_id != user.pk:
        raise EditRefused("Only its author can change this post.")


def _tag_names(question: Question) -> list[str]:
    return sorted(question.tags.values_list("name", flat=True))


def _last_number(post: Question | Answer, **original) -> int:
    """The number of the post's newest revision, writing the post as first posted (1) if it has none."""
    field = "question" if isinstance(post, Question) else "answer"
    last = Revision.objects.filter(**{field: post}).aggregate(last=Max("number"))["last"]
    if last is None:
        Revision.objects.create(number=1, editor_id=post.author_id, created_at=post.created_at, text=post.text,
                                text_html=post.text_html, **{field: post}, **original)
        last = 1
    return last


def question_edit(*, editor: User, question: Question, title: str, text: str, tag_names: list[str]) -> bool:
    """Change the question's title, text and tags; False when nothing changed (no revision written)."""
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        _check_author(editor, question)
        old_tags, title = _tag_names(question), title.strip()
        if (title, text, sorted(tag_names)) == (question.title, question.text, old_tags):
            return False
        last = _last_number(question, title=question.title, tags=" ".join(old_tags))
        now = timezone.now()
        question.title, question.text, question.text_html, question.edited_at = title, text, render_markdown(text), now
        question.save(update_fields=["title", "text", "text_html", "edited_at"])
        question.tags.set([Tag.objects.get_or_create(name=name)[0] for name in tag_names])
        Revision.objects.create(question=question, number=last + 1, editor=editor, created_at=now, title=title,
                                text=text, text_html=question.text_html, tags=" ".join(sorted(tag_names)))
        pk = question.pk
        transaction.on_commit(lambda: bump(LISTS_VERSION, question_version(pk)))
    return True


def answer_edit(*, editor: User, answer: Answer, text: str) -> bool:
    """Change the answer's text; False when nothing changed (no revision written)."""
    with transaction.atomic():
        answer = Answer.objects.select_for_update().get(pk=answer.pk)
        _check_author(editor, answer)
        if text == answer.text:
            return False
        last = _last_number(answer)
        now = timezone.now()
        answer.text, answer.text_html, answer.edited_at = text, render_markdown(text), now
        answer.save(update_fields=["text", "text_html", "edited_at"])
        Revision.objects.create(answer=answer, number=last + 1, editor=editor, created_at=now, text=text,
                                text_html=answer.text_html)
        question_id = answer.question_id
        transaction.on_commit(lambda: bump(question_version(question_id)))
    return True


def staff_edit_record(*, post: Question | Answer, editor: User) -> None:
    """Before an edit staff save in the admin: the version before is kept in the post's history (the
    original as revision 1, as for an author's edit) and the post marked edited, so nobody's words
    change without a trace and the card's fragment goes stale. Call it inside the admin's
    transaction, before the post is saved; post holds the new values."""
    before = type(post).objects.select_for_update().get(pk=post.pk)
    if isinstance(post, Question):
        tags = " ".join(_tag_names(before))  # the admin saves changed tags after the post: these are kept
        last = _last_number(before, title=before.title, tags=tags)
        extra = {"question": post, "title": post.title, "tags": tags}
    else:
        last = _last_number(before)
        extra = {"answer": post}
    post.edited_at = timezone.now()
    Revision.objects.create(number=last + 1, editor=editor, created_at=post.edited_at, text=post.text,
                            text_html=post.text_html, **extra)


def question_delete(*, user: User, question: Question) -> None:
    """Delete the question with its votes and history; refused once another member has answered it
    (their work would go with it)."""
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        _check_author(user, question)
        if question.answers.exclude(author_id=user.pk).exists():
            raise EditRefused("Others have answered this question, so it stays: edit it instead.")
        pk = question.pk
        question.delete()
        transaction.on_commit(lambda: bump(LISTS_VERSION, question_version(pk)))


def answer_delete(*, user: User, answer: Answer) -> int:
    """Delete the answer with its votes and history; its question's counters follow. Returns the question's id."""
    with transaction.atomic():
        # The answer, then its question (the UPDATE below): the order answer_accept_toggle locks them in.
        answer = Answer.objects.select_for_update().get(pk=answer.pk)
        _check_author(user, answer)
        question_id, counted = answer.question_id, answer.hidden_at is None  # a hidden one is off the counters
        changes = {"answer_count": Greatest(F("answer_count") - 1, 0)}  # a wrong counter never stops a delete
        if answer.is_accepted:
            changes["has_accepted"] = False
        answer.delete()
        if counted:
            Question.objects.filter(pk=question_id).update(**changes)
        transaction.on_commit(lambda: bump(LISTS_VERSION, question_version(question_id)))
    return question_id
