"""Users written in bulk (fill_db, fill_orders): the row every bulk load gives a user."""
from datetime import datetime

# Users made by bulk loads (fill_db, fill_orders): active, activated, with no usable password.
USER_COLUMNS = ["id", "password", "is_superuser", "email", "display_name", "avatar", "is_staff", "is_active",
                "date_joined", "activated_at"]


def user_row(pk: int, email: str, display_name: str, joined: datetime) -> tuple:
    """A user row for ask.core.bulk.RowWriter("accounts_user", USER_COLUMNS)."""
    return (pk, "!", False, email, display_name, "", False, True, joined, joined)
