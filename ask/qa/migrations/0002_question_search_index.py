"""Full-text search on PostgreSQL: a trigger keeps search_vector in step with title and text, and a
GIN index serves the @@ queries. A trigger rather than an UPDATE in Python, so bulk loads (COPY)
get it too. SQLite has neither; its search falls back to LIKE."""
from django.db import migrations

CREATE = """
CREATE FUNCTION ask_question_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A')
                    || setweight(to_tsvector('english', coalesce(NEW.text, '')), 'B');
  RETURN NEW;
END $$;
CREATE TRIGGER ask_question_search_vector BEFORE INSERT OR UPDATE OF title, text ON ask_question
  FOR EACH ROW EXECUTE FUNCTION ask_question_search_vector();
CREATE INDEX ask_question_search ON ask_question USING gin (search_vector);
"""

DROP = """
DROP INDEX IF EXISTS ask_question_search;
DROP TRIGGER IF EXISTS ask_question_search_vector ON ask_question;
DROP FUNCTION IF EXISTS ask_question_search_vector();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("ask", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
