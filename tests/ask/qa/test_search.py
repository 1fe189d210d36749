"""Search: word-based and ranked on PostgreSQL and on the embedded SQLite (FTS5), with a count,
highlighted excerpts, and an index that survives edits, deletions and migrations."""
import json
import textwrap

import pytest
from django.test import Client

from ask.qa.selectors import search_questions
from ask.qa.text import excerpt
from tests.factories import QuestionFactory
from tests.support import manage, process_env

SQLITE_SCRIPT = textwrap.dedent('''
    import json
    from django.db import connection
    from accounts.models import User
    from ask.qa.editing import question_edit
    from ask.qa.search import ensure_sqlite_index
    from ask.qa.selectors import search_questions
    from ask.qa.services import question_create

    ada = User.objects.create_user("ada@example.com", "Ada", "secret-pass-1")
    slow = question_create(author=ada, title="Why is my SQLite order list slow?",
                           text="The order list page takes seconds with many orders.", tag_names=[])
    question_create(author=ada, title="Slow cooker recipes", text="Nothing about databases.", tag_names=[])
    question_create(author=ada, title="Backups of a database", text="How do I copy the sqlite file safely?",
                    tag_names=[])
    question_create(author=ada, title="Sorting lists", text="sorted() with a key.", tag_names=[])

    def titles(query):
        found = search_questions(query)
        return [q.title for q in found.questions], found.total

    out = {"slow sqlite": titles("slow sqlite"), "sqlite": titles("sqlite"), "sorting": titles("sort"),
           "operators": titles('slow" OR NOT -*'), "prefix": titles("recip")}
    question_edit(editor=ada, question=slow, title="Why is my order list sluggish?", text="Many orders.",
                  tag_names=[])
    out["after edit"] = titles("sqlite")
    slow.delete()
    out["after delete"] = titles("sluggish")
    with connection.cursor() as cursor:  # what a migration's table rebuild does to triggers
        cursor.execute("DROP TRIGGER ask_question_fts_insert")
    question_create(author=ada, title="Written while the trigger was gone", text="A lost row.", tag_names=[])
    out["repaired"] = ensure_sqlite_index()
    out["after repair"] = titles("lost")
    print(json.dumps(out))
''')


def test_the_embedded_sqlite_search_is_word_based_ranked_counted_and_kept_in_step(tmp_path):
    env = process_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'search.sqlite3'}", MEMCACHED_SERVERS="",
                      DJANGO_SETTINGS_MODULE="ask.settings")
    migrated = manage("migrate", "-v", "0", env=env, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    result = manage("shell", "--no-imports", "-c", SQLITE_SCRIPT, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["slow sqlite"] == [["Why is my SQLite order list slow?"], 1], "words in any order, any case"
    assert found["sqlite"] == [["Why is my SQLite order list slow?", "Backups of a database"], 2], \
        "a word in the title ranks above one in the text"
    assert found["sorting"] == [["Sorting lists"], 1], "stemmed: sort finds sorting and sorted"
    assert found["operators"] == [[], 0], "the query's syntax is words, never an operator or an error"
    assert found["prefix"] == [["Slow cooker recipes"], 1], "the last word as a prefix"
    assert found["after edit"] == [["Backups of a database"], 1]
    assert found["after delete"] == [[], 0]
    assert found["repaired"] is True and found["after repair"] == [["Written while the trigger was gone"], 1]


@pytest.mark.django_db
def test_postgresql_search_ranks_title_over_text_counts_and_highlights(client):
    QuestionFactory(title="Backups of a database", text="How do I copy the postgres data folder safely?")
    QuestionFactory(title="Postgres vacuum settings", text="Autovacuum never runs.")
    QuestionFactory(title="Unrelated", text="Nothing here.")
    found = search_questions("postgres")
    assert [q.title for q in found.questions] == ["Postgres vacuum settings", "Backups of a database"]
    assert found.total == 2
    html = client.get("/search/?q=postgres").content.decode()
    assert "2 questions found" in html and "<mark>Postgres</mark> vacuum settings" in html
    assert "copy the <mark>postgres</mark> data folder" in html


def test_an_excerpt_is_plain_escaped_and_cut_around_the_first_match():
    text = "Intro sentence. " * 30 + "Then **sorting** a <script> list by `key` [docs](https://x.test/a)."
    shown = excerpt(text, ["sort"])
    assert shown.startswith("…") and "<mark>sorting</mark>" in shown and "&lt;script" in shown
    assert "**" not in shown and "https://x.test" not in shown and "<script>" not in shown


@pytest.mark.django_db
def test_a_common_word_is_counted_to_a_cap_and_the_page_stays_cheap(client, django_assert_max_num_queries):
    for n in range(25):
        QuestionFactory(title=f"Python question number {n}")
    with django_assert_max_num_queries(8):
        html = Client().get("/search/?q=python").content.decode()
    assert "25 questions found, the best first" in html


@pytest.mark.django_db
def test_postgresql_search_finds_the_newest_matches_by_a_path_bounded_whatever_the_words(monkeypatch):
    """Scaled down (a window of 10 questions, 4 candidates, a cap of 3): a common word from the newest
    questions alone, a middling one from the stretch their share points to, a rare one from the index."""
    from django.db import connection

    from ask.qa import search as module

    monkeypatch.setattr(module, "WINDOW", 10)
    monkeypatch.setattr(module, "SEARCH_CANDIDATES", 4)
    monkeypatch.setattr(module, "COUNT_CAP", 3)
    QuestionFactory(title="Zebra crossing", text="The only old one.")
    made = [QuestionFactory(title=" ".join(word for word, every in (("common", 2), ("middling", 6))
                                           if n % every == 0) or "plain", text="Filler.")
            for n in range(1, 61)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ask_question")  # the share is judged against the table's size

    def newest(word: str) -> list[int]:
        return sorted((q.pk for q in made if word in q.title), reverse=True)[:4]

    common = search_questions("common")
    assert sorted((q.pk for q in common.questions), reverse=True) == newest("common") and common.total == 4
    middling = search_questions("middling")
    assert sorted((q.pk for q in middling.questions), reverse=True) == newest("middling") and middling.total == 4
    rare = search_questions("zebra")
    assert [q.title for q in rare.questions] == ["Zebra crossing"] and rare.total == 1
    assert search_questions("nowhere").total == 0
