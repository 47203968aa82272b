from tortoise import migrations
from tortoise.migrations import operations as ops
from models._base import Visibility
from models.search import SearchKind
from tortoise import fields

SQLITE_INDEX = """
CREATE VIRTUAL TABLE search_fts USING fts5(
    title, body, content='search_documents', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER search_documents_inserted AFTER INSERT ON search_documents BEGIN
    INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER search_documents_deleted AFTER DELETE ON search_documents BEGIN
    INSERT INTO search_fts(search_fts, rowid, title, body)
    VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER search_documents_updated AFTER UPDATE ON search_documents BEGIN
    INSERT INTO search_fts(search_fts, rowid, title, body)
    VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
"""

POSTGRES_INDEX = """
ALTER TABLE search_documents ADD COLUMN document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A')
    || setweight(to_tsvector('english', coalesce(body, '')), 'B')
) STORED;
CREATE INDEX search_documents_document ON search_documents USING GIN (document);
"""

BACKFILL = """
INSERT INTO search_documents
    (kind, object_id, project_id, visibility, title, body, created_at, updated_at)
SELECT 'PAGE', id, project_id, visibility, title, body, created_at, updated_at FROM pages;
INSERT INTO search_documents
    (kind, object_id, project_id, visibility, title, body, created_at, updated_at)
SELECT 'MICROPOST', id, project_id, visibility, '', body, created_at, created_at
FROM microposts;
"""


async def full_text_index(_apps, schema_editor) -> None:
    """The database's own full-text index over search_documents, then the existing text."""
    index = SQLITE_INDEX if schema_editor.DIALECT == "sqlite" else POSTGRES_INDEX
    await schema_editor.client.execute_script(index)
    await schema_editor.client.execute_script(BACKFILL)


async def drop_full_text_index(_apps, schema_editor) -> None:
    if schema_editor.DIALECT == "sqlite":
        await schema_editor.client.execute_script("DROP TABLE IF EXISTS search_fts;")


class Migration(migrations.Migration):
    dependencies = [('models', '0004_page_drafts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SearchDocument',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='What was indexed', enum_type=SearchKind, max_length=12)),
                ('object_id', fields.IntField()),
                ('project_id', fields.IntField(db_index=True)),
                ('visibility', fields.CharEnumField(description='SHARED: SHARED\nINTERNAL: INTERNAL', enum_type=Visibility, max_length=10)),
                ('title', fields.CharField(default='', max_length=200)),
                ('body', fields.TextField(default='', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'search_documents', 'app': 'models', 'unique_together': (('kind', 'object_id'),), 'pk_attr': 'id', 'table_description': 'The searchable text of one page or post, written with it by the actions. A full-text'},
            bases=['TimestampedModel'],
        ),
        ops.RunPython(full_text_index, drop_full_text_index),
    ]
