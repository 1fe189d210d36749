"""The Q&A commands: fill_db, calc_sidebar, recalc_ratings, warmcache."""
import re
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import Count, Sum

from accounts.models import User
from ask.core.cache_keys import anonymous_page
from ask.qa.models import Answer, AnswerVote, Question, QuestionVote, Tag
from tests.factories import QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_fill_db_writes_the_promised_rows_with_consistent_ratings_and_dates():
    out = run("fill_db", "20", "--seed", "7")
    assert User.objects.count() == 20 and Tag.objects.count() == 20
    assert Question.objects.count() == 200 and Answer.objects.count() == 2000
    assert QuestionVote.objects.count() + AnswerVote.objects.count() == 4000
    assert "wrote 6,240 rows" in out
    for question in Question.objects.annotate(total=Sum("votes__value")):
        assert question.rating == (question.total or 0)
    for question in Question.objects.annotate(answered=Count("answers")):
        assert question.answer_count == question.answered
    for answer in Answer.objects.annotate(total=Sum("votes__value")):
        assert answer.rating == (answer.total or 0)
    late = Answer.objects.filter(created_at__lt=models_question_created()).count()
    assert late == 0, "every answer comes after its question"
    own_votes = QuestionVote.objects.filter(user_id=models_author_of_question())
    assert not own_votes.exists(), "nobody votes for their own post"
    assert "fixed 0 wrong counters" in run("recalc_ratings")
    assert Question.objects.filter(search_vector__isnull=False).count() == 200, "the search trigger ran for COPY"


def models_question_created():
    from django.db.models import OuterRef, Subquery

    return Subquery(Question.objects.filter(pk=OuterRef("question_id")).values("created_at")[:1])


def models_author_of_question():
    from django.db.models import OuterRef, Subquery

    return Subquery(Question.objects.filter(pk=OuterRef("question_id")).values("author_id")[:1])


def test_fill_db_clear_removes_qa_data_and_its_own_users_only():
    real = UserFactory(email="real@example.com")
    QuestionFactory(author=real)
    run("fill_db", "5")
    run("fill_db", "5", "--clear", "--yes")  # the real member's question goes too (refused without --yes)
    assert Question.objects.count() == 50 and User.objects.filter(pk=real.pk).exists()
    assert User.objects.count() == 6
    assert "nothing done (--if-empty)" in run("fill_db", "5", "--if-empty")


def test_calc_sidebar_summarises_and_verbosity_3_lists_each_entry():
    run("fill_db", "10", "--seed", "1")
    out = run("calc_sidebar", "--verbosity", "3")
    summary = re.search(r"calc_sidebar: (\d+) popular tags \(top: python\), (\d+) best members", out)
    assert summary and int(summary.group(1)) >= 5
    assert out.count("\ntag ") + out.startswith("tag ") == int(summary.group(1))
    assert out.count("member ") == int(summary.group(2))


def test_recalc_ratings_reports_wrong_counters_and_dry_run_changes_nothing():
    run("fill_db", "5", "--seed", "2")
    Question.objects.filter(pk=Question.objects.first().pk).update(rating=999)
    assert "found 1 wrong counters" in run("recalc_ratings", "--dry-run")
    assert Question.objects.filter(rating=999).exists()
    assert "fixed 1 wrong counters" in run("recalc_ratings", "--batch-size", "7")
    assert not Question.objects.filter(rating=999).exists()


def test_warmcache_puts_the_hottest_pages_in_the_cache():
    run("fill_db", "3", "--seed", "3")
    out = run("warmcache")
    assert out.startswith("warmcache: warmed ")
    assert cache.get(anonymous_page("/")) is not None and cache.get(anonymous_page("/hot/?page=2")) is not None
    best = Question.objects.order_by("-rating", "-id").first()
    assert cache.get(anonymous_page(f"/q/{best.pk}/")) is not None


@pytest.mark.django_db(transaction=True)
def test_fill_db_whose_connection_is_killed_during_a_copy_says_so_in_one_line_and_writes_nothing(var_dir):
    """COPY is the driver's own call, past Django's error wrapping: a lost connection read
    "OperationalError: invalid socket" with a SystemError beside it, not "database connection lost"."""
    from django.db import connection

    from tests.support import process_env, start_manage, wait_for

    proc = start_manage("fill_db", "2000", "--no-stats", env=process_env(var_dir))

    def copying() -> list:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND query LIKE 'COPY %%' AND pid <> pg_backend_pid()")
            return [row[0] for row in cursor.fetchall()]

    wait_for(copying, 60, interval=0.05, what="fill_db's COPY")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [copying()[0]])  # its last query stays listed
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    # The job's own line, last. (psycopg2 may print its AdminShutdown and a SystemError of its own
    # before it when the server ends a COPY: not the job's, see the closing note of 2026-12-06.)
    assert err.strip().splitlines()[-1].startswith("fill_db failed: database connection lost: "), err
    assert not Question.objects.exists(), "one transaction: nothing half-written"


def test_fill_db_refuses_a_size_past_what_a_machine_holds_at_once(var_dir):
    """Unbounded, fill_db 99999999999 started planning 10^12 answers and ran until memory ran out."""
    from tests.support import manage, process_env

    refused = manage("fill_db", "99999999999", env=process_env(var_dir), timeout=30)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        "manage.py fill_db: error: argument ratio: 99,999,999,999 is more than 1,000,000")
    assert not Question.objects.exists()
