"""The Q&A models in the admin: staff find posts by words, author or tag, fix or delete them.

A change made here keeps what the site derives from it right: the rendered HTML is rendered again, an
edited text keeps the version before in the post's history (staff edits leave a trace), deleted answers
and votes are taken off their counters, and the cached pages showing them go stale.
"""
from django.contrib import admin
from django.db import transaction

from ask.core.caching import bump as bump_now
from ask.qa.cache_keys import LISTS_VERSION, question_version
from ask.qa.counters import counters_recount
from ask.qa.editing import staff_edit_record
from ask.qa.models import Answer, AnswerVote, Flag, PurgedPost, Question, QuestionVote, Revision, Tag
from ask.qa.text import render_markdown


def bump(*version_keys: str) -> None:
    """Pages go stale when the admin's transaction commits (a page rendered before would be cached anew)."""
    transaction.on_commit(lambda: bump_now(*version_keys))


class _LargeList:
    # No COUNT(*) of the whole table beside a filtered list: on millions of rows it alone may pass
    # the web's statement timeout (DB_WEB_STATEMENT_TIMEOUT_MS).
    show_full_result_count = False
    list_per_page = 50


class RevisionInline(admin.TabularInline):
    model = Revision
    extra = 0
    can_delete = False
    fields = readonly_fields = ["number", "editor", "created_at", "title", "tags"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Question)
class QuestionAdmin(_LargeList, admin.ModelAdmin):
    list_display = ["title", "author", "created_at", "rating", "answer_count", "has_accepted", "edited_at"]
    list_filter = ["has_accepted", "hidden_reason", "created_at", "edited_at"]
    search_fields = ["title", "author__display_name", "author__email", "tags__name"]
    autocomplete_fields = ["author", "tags"]
    readonly_fields = ["rating", "answer_count", "has_accepted", "edited_at", "hidden_at", "hidden_reason", "text_html"]
    date_hierarchy = "created_at"
    inlines = [RevisionInline]

    def save_model(self, request, obj, form, change) -> None:
        obj.text_html = render_markdown(obj.text)
        if change and {"title", "text"} & set(form.changed_data):
            staff_edit_record(post=obj, editor=request.user)
        super().save_model(request, obj, form, change)
        bump(LISTS_VERSION, question_version(obj.pk))

    def delete_queryset(self, request, queryset) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        bump(LISTS_VERSION, *(question_version(pk) for pk in ids))

    def delete_model(self, request, obj) -> None:
        pk = obj.pk
        super().delete_model(request, obj)
        bump(LISTS_VERSION, question_version(pk))


@admin.register(Answer)
class AnswerAdmin(_LargeList, admin.ModelAdmin):
    list_display = ["__str__", "question", "author", "created_at", "rating", "is_accepted", "edited_at"]
    list_filter = ["is_accepted", "hidden_reason", "created_at"]
    search_fields = ["text", "author__display_name", "author__email", "question__title"]
    autocomplete_fields = ["author", "question"]
    readonly_fields = ["rating", "is_accepted", "edited_at", "hidden_at", "hidden_reason", "text_html"]
    list_select_related = ["question", "author"]
    inlines = [RevisionInline]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # An answer stays on its question: moving it would leave two questions' counters wrong.
        return [*self.readonly_fields, "question"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        obj.text_html = render_markdown(obj.text)
        if change and "text" in form.changed_data:
            staff_edit_record(post=obj, editor=request.user)
        super().save_model(request, obj, form, change)
        bump(question_version(obj.question_id))

    def delete_queryset(self, request, queryset) -> None:
        question_ids = set(queryset.values_list("question_id", flat=True))
        super().delete_queryset(request, queryset)
        counters_recount({"answers": question_ids})
        bump(LISTS_VERSION, *(question_version(pk) for pk in question_ids))

    def delete_model(self, request, obj) -> None:
        question_id = obj.question_id
        super().delete_model(request, obj)
        counters_recount({"answers": [question_id]})
        bump(LISTS_VERSION, question_version(question_id))


@admin.register(Tag)
class TagAdmin(_LargeList, admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        bump(LISTS_VERSION)


class _VoteAdmin(_LargeList, admin.ModelAdmin):
    """Votes are read here (who voted what, when); a wrong one is deleted and its rating recounted."""

    list_filter = ["value", "created_at"]
    search_fields = ["user__display_name", "user__email"]
    autocomplete_fields = ["user"]
    kind, target = "", ""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def _recount(self, ids: set[int], question_ids: set[int]) -> None:
        counters_recount({self.kind: ids})
        bump(*(question_version(pk) for pk in question_ids))

    def delete_queryset(self, request, queryset) -> None:
        ids = set(queryset.values_list(f"{self.target}_id", flat=True))
        question_ids = self._question_ids(queryset)
        super().delete_queryset(request, queryset)
        self._recount(ids, question_ids)

    def delete_model(self, request, obj) -> None:
        ids, question_ids = {getattr(obj, f"{self.target}_id")}, self._question_ids(type(obj).objects.filter(pk=obj.pk))
        super().delete_model(request, obj)
        self._recount(ids, question_ids)


@admin.register(QuestionVote)
class QuestionVoteAdmin(_VoteAdmin):
    list_display = ["question", "user", "value", "created_at"]
    list_select_related = ["question", "user"]
    kind, target = "question votes", "question"

    def _question_ids(self, queryset) -> set[int]:
        return set(queryset.values_list("question_id", flat=True))


@admin.register(AnswerVote)
class AnswerVoteAdmin(_VoteAdmin):
    list_display = ["answer", "user", "value", "created_at"]
    list_select_related = ["answer", "user"]
    kind, target = "answer votes", "answer"

    def _question_ids(self, queryset) -> set[int]:
        return set(queryset.values_list("answer__question_id", flat=True))


class _ReadOnly(_LargeList, admin.ModelAdmin):
    """Records kept for staff to read; the moderation page and purge_spam write them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Flag)
class FlagAdmin(_ReadOnly):
    list_display = ["reason", "question", "answer", "user", "created_at", "resolved_at"]
    list_filter = ["reason", "resolved_at", "created_at"]
    list_select_related = ["question", "answer", "user"]


@admin.register(PurgedPost)
class PurgedPostAdmin(_ReadOnly):
    list_display = ["kind", "post_id", "author_id", "title", "hidden_at", "purged_at"]
    list_filter = ["kind", "purged_at"]
    search_fields = ["title", "excerpt"]
