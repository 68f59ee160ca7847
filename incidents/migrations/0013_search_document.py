"""The desk's search document, stored (PostgreSQL only; SQLite searches with LIKE).

Partly hand-written: keep the RunPython when migrations are regenerated. `search_document` is a
tsvector column the model does not know (Django never writes it, so a save from a stale copy
cannot put an old document back): triggers keep it to the incident's title, source number,
description and the text of every comment on it (replies and internal notes, all of which an
agent may read). A GIN index leads with the tenant (btree_gin, migration 0007), so a rare
word's matches are read from one tenant's entries; a common word's page walks the queue's own
index and tests the stored document per row instead of parsing the text again
(desk/search.py chooses between the two).
"""

from django.conf import settings
from django.db import migrations, models

DOCUMENT = """
CREATE FUNCTION incidents_search_document(title text, source text, description text,
                                          comments text) RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
  SELECT setweight(to_tsvector('english', coalesce(title, '') || ' ' || coalesce(source, '')), 'A')
         || to_tsvector('english', coalesce(description, ''))
         || to_tsvector('english', coalesce(comments, ''))
$$;

CREATE FUNCTION incidents_comments_text(incident bigint) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT string_agg(body, ' ' ORDER BY id) FROM incidents_comment WHERE incident_id = incident
$$;

ALTER TABLE incidents_incident ADD COLUMN search_document tsvector;

-- An incident's own fields: computed on insert (no comments yet) and when they change; other
-- updates (state, version, ...) keep the stored document untouched.
CREATE FUNCTION incidents_search_own() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.search_document := incidents_search_document(
      NEW.title, NEW.source_number, NEW.description, NULL);
  ELSIF NEW.title IS DISTINCT FROM OLD.title
        OR NEW.description IS DISTINCT FROM OLD.description
        OR NEW.source_number IS DISTINCT FROM OLD.source_number THEN
    NEW.search_document := incidents_search_document(
      NEW.title, NEW.source_number, NEW.description, incidents_comments_text(NEW.id));
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER incidents_search_own BEFORE INSERT OR UPDATE OF title, description, source_number
ON incidents_incident FOR EACH ROW EXECUTE FUNCTION incidents_search_own();

-- A comment adds its words (comment_add already holds the incident's row lock); an edited or
-- deleted comment rebuilds the document. The UPDATE sets no column of the trigger above.
CREATE FUNCTION incidents_search_comments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE incidents_incident
       SET search_document = coalesce(search_document, ''::tsvector)
                             || to_tsvector('english', NEW.body)
     WHERE id = NEW.incident_id;
    RETURN NULL;
  END IF;
  UPDATE incidents_incident i
     SET search_document = incidents_search_document(
           i.title, i.source_number, i.description, incidents_comments_text(i.id))
   WHERE i.id IN (OLD.incident_id, CASE WHEN TG_OP = 'UPDATE' THEN NEW.incident_id END);
  RETURN NULL;
END $$;

CREATE TRIGGER incidents_search_comments AFTER INSERT OR DELETE OR UPDATE OF body, incident_id
ON incidents_comment FOR EACH ROW EXECUTE FUNCTION incidents_search_comments();

UPDATE incidents_incident i
   SET search_document = incidents_search_document(
         i.title, i.source_number, i.description, incidents_comments_text(i.id));

CREATE INDEX incident_search_document ON incidents_incident
 USING gin (tenant_id, search_document);
"""

DROP = """
DROP INDEX IF EXISTS incident_search_document;
DROP TRIGGER IF EXISTS incidents_search_comments ON incidents_comment;
DROP TRIGGER IF EXISTS incidents_search_own ON incidents_incident;
DROP FUNCTION IF EXISTS incidents_search_comments();
DROP FUNCTION IF EXISTS incidents_search_own();
ALTER TABLE incidents_incident DROP COLUMN IF EXISTS search_document;
DROP FUNCTION IF EXISTS incidents_comments_text(bigint);
DROP FUNCTION IF EXISTS incidents_search_document(text, text, text, text);
"""


def create_document(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # several statements: no parameters
            cursor.execute(DOCUMENT)


def drop_document(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0012_canned_responses"),
        ("tenancy", "0005_config_lock"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["tenant", "reported_at", "id"], name="incident_history"),
        ),
        migrations.RunPython(create_document, drop_document, elidable=False),
    ]
