"""GIN index over the questions' full-text document, on PostgreSQL only (SQLite searches by LIKE)."""
from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX IF NOT EXISTS ask_question_search ON ask_question USING gin (search_vector)")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS ask_question_search")


class Migration(migrations.Migration):
    dependencies = [("ask", "0001_initial")]
    operations = [migrations.RunPython(create_index, drop_index)]
