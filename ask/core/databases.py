"""How a command names the database it is about to change ("PostgreSQL database ask on
db1:5432"), so an admin who meant the staging server reads which one it is before it is too late."""
from django.conf import settings


def database_label(name: str | None = None) -> str:
    """The default database (or another of that name on the same server), as an admin would say it."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite database {name or db['NAME']}"
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    return f"PostgreSQL database {name or db['NAME']} on {where}"
