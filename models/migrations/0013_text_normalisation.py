from tortoise import migrations
from tortoise.migrations import operations as ops

# PostgreSQL indexes the same words as SQLite's unicode61 tokenizer (domain.search.words),
# stemmed by the same (Porter's) algorithm and without stop words, so that both databases
# find the same.
POSTGRES_CONFIGURATION = """
CREATE TEXT SEARCH DICTIONARY extranet_stem (TEMPLATE = snowball, Language = porter);
CREATE TEXT SEARCH CONFIGURATION extranet_search (COPY = english);
ALTER TEXT SEARCH CONFIGURATION extranet_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
    WITH extranet_stem;
DROP INDEX IF EXISTS search_documents_document;
ALTER TABLE search_documents DROP COLUMN IF EXISTS document;
ALTER TABLE search_documents ADD COLUMN document tsvector NOT NULL DEFAULT ''::tsvector;
"""

POSTGRES_INDEX = """
CREATE INDEX search_documents_document ON search_documents USING GIN (document);
"""

POSTGRES_BACK = """
DROP INDEX IF EXISTS search_documents_document;
ALTER TABLE search_documents DROP COLUMN IF EXISTS document;
ALTER TABLE search_documents ADD COLUMN document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A')
    || setweight(to_tsvector('english', coalesce(body, '')), 'B')
) STORED;
CREATE INDEX search_documents_document ON search_documents USING GIN (document);
DROP TEXT SEARCH CONFIGURATION IF EXISTS extranet_search;
DROP TEXT SEARCH DICTIONARY IF EXISTS extranet_stem;
"""


async def search_words(_apps, schema_editor) -> None:
    """PostgreSQL: the index made again from the words SQLite reads."""
    if schema_editor.DIALECT == "sqlite":
        return
    from domain.search import POSTGRES_DOCUMENT, words

    client = schema_editor.client
    await client.execute_script(POSTGRES_CONFIGURATION)
    last = 0
    while True:  # a thousand documents at a time
        _, rows = await client.execute_query(
            "SELECT id, title, body FROM search_documents WHERE id > $1 ORDER BY id LIMIT 1000",
            [last],
        )
        if not rows:
            break
        await client.execute_many(
            f"UPDATE search_documents SET document = {POSTGRES_DOCUMENT} WHERE id = $3",
            [[" ".join(words(r["title"])), " ".join(words(r["body"])), r["id"]] for r in rows],
        )
        last = rows[-1]["id"]
    await client.execute_script(POSTGRES_INDEX)


async def english_words(_apps, schema_editor) -> None:
    if schema_editor.DIALECT != "sqlite":
        await schema_editor.client.execute_script(POSTGRES_BACK)


async def topic_names(_apps, schema_editor) -> None:
    """Topic names in their normal form (domain.text.normalise_topic). Topics whose names
    become the same are merged into one (the one already so named, or else the oldest):
    its posts and watches are the union of theirs; a person watching several keeps the
    watch on the one that stays."""
    from domain.text import normalise_topic

    client = schema_editor.client
    mark = (lambda n: "?") if schema_editor.DIALECT == "sqlite" else (lambda n: f"${n}")
    _, rows = await client.execute_query("SELECT id, name FROM topics ORDER BY id")
    groups: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        name = normalise_topic(row["name"]) or row["name"]
        groups.setdefault(name, []).append((int(row["id"]), row["name"]))
    for name, members in groups.items():
        if len(members) == 1 and members[0][1] == name:
            continue
        keep = next((id_ for id_, old in members if old == name), members[0][0])
        for other, _ in members:
            if other == keep:
                continue
            await client.execute_query(
                f"UPDATE micropost_topics SET topic_id = {mark(1)} WHERE topic_id = {mark(2)} "
                "AND micropost_id NOT IN (SELECT micropost_id FROM micropost_topics "
                f"WHERE topic_id = {mark(3)})",
                [keep, other, keep],
            )
            await client.execute_query(
                f"UPDATE watches SET topic_id = {mark(1)}, target_key = {mark(2)} "
                f"WHERE topic_id = {mark(3)} AND user_id NOT IN "
                f"(SELECT user_id FROM watches WHERE topic_id = {mark(4)})",
                [keep, f"TOPIC:{keep}", other, keep],
            )
            for table in ("micropost_topics", "watches"):
                await client.execute_query(
                    f"DELETE FROM {table} WHERE topic_id = {mark(1)}", [other]
                )
            await client.execute_query(f"DELETE FROM topics WHERE id = {mark(1)}", [other])
        await client.execute_query(
            f"UPDATE topics SET name = {mark(1)} WHERE id = {mark(2)}", [name, keep]
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0012_attachment_lifecycle')]

    initial = False

    operations: list[ops.Operation] = [
        ops.RunPython(topic_names, ops.RunPython.noop),
        ops.RunPython(search_words, english_words),
    ]
