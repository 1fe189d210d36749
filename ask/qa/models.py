"""Questions, answers, tags and votes. Ratings and answer counts are denormalised counters, kept
exact by atomic updates in ask.qa.services and rebuilt from the votes by `recalc_ratings`."""
from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q


class Tag(models.Model):
    # Lower-case, validated by ask.qa.text.TAG_FORMAT; shown in URLs (/tag/<name>/).
    name = models.CharField(max_length=32, unique=True)

    def __str__(self) -> str:
        return self.name


class FlagReason(models.TextChoices):
    SPAM = "spam", "Spam"  # purged by purge_spam once hidden for QA_SPAM_GRACE_DAYS
    OFFENSIVE = "offensive", "Offensive"
    OFF_TOPIC = "off_topic", "Off-topic"


class Question(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="questions")
    title = models.CharField(max_length=200)
    text = models.TextField()  # Markdown as typed
    text_html = models.TextField()  # rendered and sanitised once, at write time (ask.qa.text.render_markdown)
    tags = models.ManyToManyField(Tag, related_name="questions", blank=True)
    created_at = models.DateTimeField(db_index=True)
    rating = models.IntegerField(default=0)  # sum of its votes
    answer_count = models.PositiveIntegerField(default=0)
    has_accepted = models.BooleanField(default=False)
    edited_at = models.DateTimeField(null=True, blank=True)  # the author's last edit; None: as first posted
    # Set by a moderator (ask.qa.moderation): a hidden post is in no list, search, sidebar or page.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=16, blank=True, choices=FlagReason.choices, db_default="")  # for COPY
    search_vector = SearchVectorField(null=True, editable=False)  # set by a trigger on PostgreSQL (migration 0002)

    class Meta:
        indexes = [
            # Lists show visible questions only. Partial, so a deep page's first row is found by an
            # index-only scan of these alone (ask.core.pagination).
            models.Index(fields=["-rating", "-id"], condition=Q(hidden_at=None), name="ask_question_hot"),
            models.Index(fields=["-id"], condition=Q(hidden_at=None), name="ask_question_new"),
            models.Index(fields=["author", "-created_at"], name="ask_question_author"),
        ]

    def __str__(self) -> str:
        return self.title


class Answer(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="answers")
    text = models.TextField()
    text_html = models.TextField()
    created_at = models.DateTimeField()
    rating = models.IntegerField(default=0)
    is_accepted = models.BooleanField(default=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Hidden answers are not counted in their question's answer_count nor its has_accepted.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=16, blank=True, choices=FlagReason.choices, db_default="")

    class Meta:
        indexes = [
            # The question page's order: accepted first, then by rating, then oldest first.
            models.Index(fields=["question", "-is_accepted", "-rating", "created_at", "id"], name="ask_answer_page"),
            models.Index(fields=["author", "-created_at"], name="ask_answer_author"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["question"], condition=Q(is_accepted=True), name="ask_one_accepted_answer"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


def of_one_post(prefix: str, *, unique_with: str, unique_names: tuple[str, str]) -> list:
    """Constraints of a row about one question or one answer (revisions, flags): exactly one of the
    two set, and unique_with unique per post."""
    return [
        models.CheckConstraint(condition=(Q(question__isnull=False, answer__isnull=True)
                                          | Q(question__isnull=True, answer__isnull=False)),
                               name=f"{prefix}_of_one_post"),
        *(models.UniqueConstraint(fields=[post, unique_with], condition=Q(**{f"{post}__isnull": False}),
                                  name=f"{prefix}_{name}")
          for post, name in zip(("question", "answer"), unique_names)),
    ]


class Revision(models.Model):
    """One version of a question or answer as its author wrote it, numbered from 1 (as first posted).

    Written by ask.qa.editing only: a post's first edit keeps the original as number 1 and the edit
    as number 2, so the millions of posts never edited (and bulk loads) cost no row here.
    """

    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions")
    answer = models.ForeignKey(Answer, null=True, blank=True, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    title = models.CharField(max_length=200, blank=True)  # questions only
    text = models.TextField()  # Markdown as typed
    text_html = models.TextField(blank=True)  # rendered once when written, as the post's own (history pages)
    tags = models.CharField(max_length=120, blank=True)  # questions only: names separated by spaces

    class Meta:
        ordering = ["number"]
        constraints = of_one_post("ask_revision", unique_with="number",
                                  unique_names=("question_number", "answer_number"))


class Flag(models.Model):
    """A member's report of a question or answer: one per member and post, open until staff hide
    the post or dismiss its flags."""

    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    answer = models.ForeignKey(Answer, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=FlagReason.choices)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], condition=Q(resolved_at__isnull=True), name="ask_flag_open")]
        constraints = of_one_post("ask_flag", unique_with="user", unique_names=("question_once", "answer_once"))


class PurgedPost(models.Model):
    """What purge_spam deleted: enough to answer "where did my post go?" and to audit the job."""

    kind = models.CharField(max_length=8)  # "question" or "answer"
    post_id = models.BigIntegerField()
    author_id = models.BigIntegerField()  # no foreign key: the record outlives a deleted member
    title = models.CharField(max_length=200, blank=True)  # the question's, for an answer its question's
    excerpt = models.CharField(max_length=200)
    hidden_at = models.DateTimeField()
    purged_at = models.DateTimeField(db_index=True)


class TagFollow(models.Model):
    """A member follows a tag: its new questions go into their digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tag"], name="ask_follow_tag_once")]


class QuestionFollow(models.Model):
    """A member follows a question (their own ones from the start): its new answers go into their digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "question"], name="ask_follow_question_once")]


class DigestFrequency(models.TextChoices):
    OFF = "off", "No digest"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class Digest(models.Model):
    """A member's digest: how often, and the watermark that makes each digest go out once.

    sent_until: everything created up to this moment has been in one of their digests (or predates
    the subscription). send_digests moves it in the transaction that queues the mail, so a crash, a
    re-run or a second host can neither send a digest twice nor skip one.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="digest")
    frequency = models.CharField(max_length=8, choices=DigestFrequency.choices, default=DigestFrequency.DAILY)
    sent_until = models.DateTimeField()
    last_mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["frequency", "sent_until"], name="ask_digest_due")]


class VoteValue(models.IntegerChoices):
    UP = 1
    DOWN = -1


class QuestionVote(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="question_votes")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="votes")
    value = models.SmallIntegerField(choices=VoteValue.choices)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "user"], name="ask_one_vote_per_question")]


class AnswerVote(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="answer_votes")
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="votes")
    value = models.SmallIntegerField(choices=VoteValue.choices)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["answer", "user"], name="ask_one_vote_per_answer")]


class SidebarSnapshot(models.Model):
    """What calc_sidebar computed last: the sidebar when the cache is cold (one row, pk=1)."""

    computed_at = models.DateTimeField()
    tags = models.JSONField(default=list)  # [{"name": "python", "count": 12}, ...]
    members = models.JSONField(default=list)  # [{"id": 1, "display_name": "Ada", "rating": 30}, ...]


class ImportedPost(models.Model):
    """Which question or answer a Stack Exchange post became, so a re-run updates instead of adding."""

    source = models.CharField(max_length=100)  # the dump's site, e.g. "cooking.stackexchange.com"
    post_id = models.BigIntegerField()
    question = models.OneToOneField(Question, null=True, on_delete=models.CASCADE, related_name="+")
    answer = models.OneToOneField(Answer, null=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "post_id"], name="ask_imported_post_once")]
