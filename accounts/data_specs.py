"""What export_data and import_data move of the accounts app: users (without their passwords), and
the look-up of users by e-mail that other apps' specs use for their authors and customers."""
from django.db.models.functions import Lower

from accounts.models import User
from ask.dataio.exporting import copy_timestamp, field_rows
from ask.dataio.files import Row
from ask.dataio.specs import Spec, fits, read_bool, read_datetime, read_optional_datetime, register
from ask.dataio.upsert import select_in, upsert
from ask.dataio.writer import Rejections, SpecWriter, Written, reject_missing, written_of

USER_COLUMNS = ["email", "display_name", "is_active", "date_joined", "activated_at"]


class UserIds:
    """Users' ids by e-mail address, each looked up once per import (a file names the same authors
    over and over); bounded by the users table, not by the file."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def check(self, values: list[dict], bad: Rejections, field_name: str) -> None:
        """Reject rows whose field_name names no user; remember the ids of the others."""
        unknown = {v[field_name] for v in values} - self.ids.keys()
        if unknown:
            self.ids.update(select_in(User, "email", unknown, ["email", "id"]))
        reject_missing(values, bad, field_name, self.ids, "user")

    def __getitem__(self, email: str) -> int:
        return self.ids[email]


class UsersWriter(SpecWriter):
    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.names: dict[str, str] = {}  # lower-case display name -> the e-mail that has it (this import)
        self.active: dict[str, bool] = {}  # e-mail -> is_active, as the database or this import has it

    def refs(self, rows: list[Row]) -> Rejections:
        """Display names are unique whatever their case: one may not go to a second e-mail address."""
        bad: Rejections = {}
        values = [r.values for r in rows]
        owner = self.names
        wanted = {v["display_name"].lower() for v in values} - owner.keys()
        owner.update(User.objects.annotate(name=Lower("display_name")).filter(name__in=wanted)
                     .values_list("name", "email"))
        for index, value in enumerate(values):
            name = value["display_name"].lower()
            if owner.setdefault(name, value["email"]) != value["email"]:
                bad[index] = ("display_name", f"{value['display_name']!r} is the name of {owner[name]} already")
        self._active_changes(values, bad)
        return bad

    def _active_changes(self, values: list[dict], bad: Rejections) -> None:
        """Without --change-active, a row may not activate or deactivate an account that exists."""
        unknown = {v["email"] for v in values} - self.active.keys()
        if unknown:
            self.active.update(select_in(User, "email", unknown, ["email", "is_active"]))
        for index, value in enumerate(values):
            if index in bad:
                continue
            was = self.active.get(value["email"])
            if was is not None and was != value["is_active"] and not self.change_active:
                verb = "deactivate" if was else "activate"
                bad[index] = ("is_active", f"would {verb} the existing account {value['email']}; "
                                           "import_data --change-active allows it")
            else:
                self.active[value["email"]] = value["is_active"]

    def write(self, rows: list[Row], prepared: dict) -> Written:
        values = [r.values for r in rows]
        return written_of(upsert(User, [*USER_COLUMNS, "password", "is_superuser", "is_staff", "avatar"],
                                 [(*(v[c] for c in USER_COLUMNS), "!", False, False, "") for v in values],
                                 key=["email"], update=["display_name", "is_active", "date_joined", "activated_at"],
                                 returning=["email"]))


register(Spec(
    "users", ("email",),
    {"email": fits(User, "email"), "display_name": fits(User, "display_name"), "is_active": read_bool,
     "date_joined": read_datetime, "activated_at": read_optional_datetime},
    rows=lambda since: field_rows(User.objects.all(), USER_COLUMNS, "date_joined", since),
    writer=UsersWriter, since_field="date_joined",
    copy_select=(f"SELECT email, display_name, is_active::text, {copy_timestamp('date_joined')}, "
                 f"{copy_timestamp('activated_at')} FROM accounts_user {{where}} ORDER BY id"),
    copy_since="date_joined",
))
