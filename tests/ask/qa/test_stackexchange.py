"""import_stackexchange on small dumps written after the public schema."""
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from ask.qa.models import Answer, Question
from tests.ask.dataio.test_import_rules import row_versions

pytestmark = pytest.mark.django_db
DUMP = Path(__file__).parent / "se_dump"


def run(folder: Path) -> str:
    out = StringIO()
    call_command("import_stackexchange", str(folder), "--source", "cooking.example", stdout=out)
    return out.getvalue()


def test_a_dump_becomes_questions_answers_tags_votes_and_the_accepted_answer():
    out = run(DUMP)
    assert ("2 new questions, 2 new answers" in out and "1 posts of type 5" in out
            and "1 answers to unknown questions" in out)
    eggs = Question.objects.get(title="Boiling eggs")
    assert eggs.author.display_name == "Eggbert" and eggs.rating == 2 and eggs.answer_count == 2 and eggs.has_accepted
    assert sorted(eggs.tags.values_list("name", flat=True)) == ["boiling", "eggs"]
    assert "<script" not in eggs.text_html and "How do I boil an egg?" in eggs.text_html
    accepted = Answer.objects.get(is_accepted=True)
    assert (accepted.rating == 3 and "<strong>minutes</strong>" in accepted.text_html
            and accepted.author.display_name == "Baker")
    assert Question.objects.get(title="Flat bread").rating == -1
    assert Answer.objects.get(text__contains="Steam").author.display_name == "user7", "a placeholder for a missing user"
    assert not User.objects.get(display_name="Eggbert").has_usable_password()


def test_a_second_run_adds_nothing_twice():
    run(DUMP)
    counts = (Question.objects.count(), Answer.objects.count(), User.objects.count())
    out = run(DUMP)
    assert "0 new questions, 0 new answers, 0 new users" in out
    assert (Question.objects.count(), Answer.objects.count(), User.objects.count()) == counts
    assert Question.objects.get(title="Boiling eggs").rating == 2


def test_only_posts_xml_gives_placeholder_users_and_votes_from_the_scores(tmp_path):
    shutil.copy(DUMP / "Posts.xml", tmp_path / "Posts.xml")
    run(tmp_path)
    assert Question.objects.get(title="Boiling eggs").author.display_name == "user5"
    assert Question.objects.get(title="Boiling eggs").rating == 2 and Answer.objects.get(is_accepted=True).rating == 3


def test_bad_dumps_are_refused_with_the_file_named(tmp_path):
    with pytest.raises(CommandError, match="no Posts.xml"):
        run(tmp_path)
    (tmp_path / "Posts.xml").write_text("<posts><row Id='1' PostTypeId='1'")
    with pytest.raises(CommandError, match="Posts.xml: not well-formed XML"):
        run(tmp_path)


def test_a_re_run_writes_the_posts_the_dump_changed_and_only_those(tmp_path):
    run(DUMP)
    for name in ("Posts.xml", "Users.xml", "Tags.xml", "Votes.xml"):
        if (DUMP / name).exists():
            shutil.copy(DUMP / name, tmp_path / name)
    posts = tmp_path / "Posts.xml"
    posts.write_text(posts.read_text().replace('Title="Boiling eggs"', 'Title="Boiling eggs well"'))
    bread = Question.objects.get(title="Flat bread")
    versions = {q.pk: q.title for q in Question.objects.all()}
    before = row_versions("ask_question"), row_versions("ask_answer")
    call_command("import_stackexchange", str(tmp_path), "--source", "cooking.example", stdout=StringIO())
    after = row_versions("ask_question"), row_versions("ask_answer")
    eggs = Question.objects.get(title="Boiling eggs well")
    assert len(versions) == Question.objects.count() and eggs.pk in versions
    assert sorted(eggs.tags.values_list("name", flat=True)) == ["boiling", "eggs"], "tags kept on a re-run"
    assert dict(after[0])[bread.pk] == dict(before[0])[bread.pk], "an unchanged post is not written"
    assert after[1] == before[1], "nor an unchanged answer (its accepted mark included)"


@pytest.mark.django_db(transaction=True)
def test_a_first_import_into_a_site_without_posts_loads_into_bare_tables_and_gets_every_index_back(monkeypatch):
    from ask.qa import stackexchange
    from tests.ask.core.test_indexes_after import _schema, bared_tables

    seen = bared_tables(monkeypatch, stackexchange)
    before = _schema(stackexchange.SE_TABLES)
    assert "2 new questions, 2 new answers" in run(DUMP) and seen == [frozenset(stackexchange.SE_TABLES)]
    assert _schema(stackexchange.SE_TABLES) == before
    assert Question.objects.get(title="Boiling eggs").answer_count == 2 and Answer.objects.get(is_accepted=True)
    assert "0 new questions, 0 new answers" in run(DUMP) and len(seen) == 1, "a site with posts: batches as before"
