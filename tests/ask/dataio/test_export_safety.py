"""export_data and import_data as an outsider would abuse them: formulas for a spreadsheet, and links
planted where they write (security findings 12 and 16)."""
import csv
import stat
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ask.dataio.exporting import formula_neutralised
from ask.qa.models import QuestionVote
from orders.models import Restaurant
from tests.factories import QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = ["=HYPERLINK(\"http://evil\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


def export(model: str, path, *args) -> list[dict]:
    call_command("export_data", model, "--output", str(path), *args, stdout=StringIO(), stderr=StringIO())
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("raw", [False, True])
def test_cells_a_spreadsheet_would_run_are_neutralised_unless_raw(tmp_path, raw):
    for n, name in enumerate(HOSTILE):
        UserFactory(display_name=name, email=f"h{n}@example.com")
    question = QuestionFactory(title="=1+1")
    QuestionVote.objects.create(question=question, user=UserFactory(), value=-1, created_at=timezone.now())
    Restaurant.objects.create(name="=Pizza()", slug="p", opens_at="10:00", closes_at="22:00")
    args = ["--raw"] if raw else []
    users = {r["email"]: r["display_name"] for r in export("users", tmp_path / "u.csv", *args)}  # COPY path
    questions = export("questions", tmp_path / "q.csv", *args)
    restaurants = export("restaurants", tmp_path / "r.csv", *args)  # the Python writer
    votes = export("votes", tmp_path / "v.csv", *args)
    expected = [name if raw else "'" + name for name in HOSTILE]
    assert [users[f"h{n}@example.com"] for n in range(len(HOSTILE))] == expected
    assert questions[0]["title"] == ("=1+1" if raw else "'=1+1")
    assert votes[0]["value"] == "-1", "a plain negative number stays a number"
    assert restaurants[0]["name"] == ("=Pizza()" if raw else "'=Pizza()")


def test_plain_numbers_and_ordinary_text_are_left_as_they_are():
    for value in ["-3", "+1.5", "0", "ada", "a=b", "", "2026-12-02T10:00:00+00:00"]:
        assert formula_neutralised(value) == value
    assert formula_neutralised("-3-3") == "'-3-3"


def test_a_link_planted_at_the_partial_file_is_refused_and_its_target_untouched(tmp_path):
    UserFactory()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out.csv.partial").symlink_to(victim)
    with pytest.raises(CommandError, match="out.csv.partial: is a symbolic link"):
        call_command("export_data", "users", "--output", str(tmp_path / "out.csv"), stdout=StringIO(),
                     stderr=StringIO())
    assert victim.read_text() == "precious" and not (tmp_path / "out.csv").exists()


def test_a_link_planted_at_the_rejects_file_is_refused_and_its_target_untouched(tmp_path):
    source = tmp_path / "users.csv"
    source.write_text("email,display_name,is_active,date_joined,activated_at\nnot-an-address,X,true,,\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "users.csv.rejects.csv").symlink_to(victim)
    with pytest.raises(CommandError, match="rejects.csv: is a symbolic link"):
        call_command("import_data", "users", str(source), stdout=StringIO(), stderr=StringIO())
    assert victim.read_text() == "precious"


def test_an_export_is_readable_by_the_sites_user_only(tmp_path):
    UserFactory()
    export("users", tmp_path / "u.csv")
    assert stat.S_IMODE((tmp_path / "u.csv").stat().st_mode) == 0o600
