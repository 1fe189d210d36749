"""Demo data, loaded only where it cannot hurt: the embedded database, or one with no users yet.

The demo superuser gets a random password, shown once and kept in var/demo-password (0600), and is
never written over an existing user: a published password on a production database, or a user with
pk 1 overwritten by a fixture, is how a demo becomes a break-in.
"""
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Min
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from ask.core.private_files import private_write
from ask.qa.filling import qa_fill
from ask.qa.models import Question
from ask.qa.sidebar import sidebar_calculate
from orders.filling import orders_fill, staff_add
from orders.models import Order

DEMO_EMAIL = "demo@example.com"
DEMO_NAME = "demo"
QA_RATIO = 30  # 30 members, 300 questions, 3,000 answers
ORDERS = 300
SEED = 1


class DemoRefused(Exception):
    """The database is not one demo data may go into (it has users and is not the embedded one)."""


@dataclass
class DemoResult:
    skipped: str = ""  # why nothing was done, when nothing was
    password: str = ""  # the demo user's new password, when it was created now
    password_file: Path | None = None
    questions: int = 0
    orders: int = 0


def database_is_embedded() -> bool:
    return connection.vendor == "sqlite"


def password_file() -> Path:
    return settings.VAR_DIR / "demo-password"


def demo_load(*, first_start: bool = False, progress=None) -> DemoResult:
    """Load the demo: the demo superuser if missing, then Q&A and orders data where there is none.

    first_start: do nothing at all when the database has users (scripts/run on every start after the
    first). Otherwise a database with users is refused unless it is the embedded one.
    """
    has_users = User.objects.exists()
    if has_users and first_start:
        return DemoResult(skipped="the database has users already (not its first start)")
    if has_users and not database_is_embedded():
        db = connection.settings_dict
        raise DemoRefused(f"the database {db.get('NAME')} on {db.get('HOST') or 'localhost'} has users already: "
                          "demo data goes only into the embedded database or an empty one")
    result = DemoResult()
    with transaction.atomic():
        if not User.objects.filter(email__iexact=DEMO_EMAIL).exists():
            result.password = secrets.token_urlsafe(12)
            User.objects.create_superuser(email=DEMO_EMAIL, display_name=_free_name(), password=result.password,
                                          activated_at=timezone.now())
    if result.password:
        result.password_file = private_write(password_file(), f"{DEMO_EMAIL} {result.password}\n")
    if not Question.objects.exists():
        result.questions = qa_fill(ratio=QA_RATIO, seed=SEED, progress=progress).questions
        sidebar_calculate()
    staff_add(DEMO_EMAIL)
    if not Order.objects.exists():
        result.orders = orders_fill(count=ORDERS, seed=SEED, progress=progress).orders
    return result


def data_first_day():
    """When the oldest question or order was made (None without any): where the statistics start."""
    firsts = [Question.objects.aggregate(first=Min("created_at"))["first"],
              Order.objects.aggregate(first=Min("created_at"))["first"]]
    return min((first for first in firsts if first), default=None)


def _free_name() -> str:
    """"demo", or "demo 2", "demo 3"... when a member has that display name already."""
    name, n = DEMO_NAME, 1
    while User.objects.filter(display_name__iexact=name).exists():
        n += 1
        name = f"{DEMO_NAME} {n}"
    return name
