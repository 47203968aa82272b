from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index


async def images_as_links(_apps, schema_editor) -> None:
    """Render again the pages and posts whose stored HTML shows an image: images of other
    servers are links now (domain/markdown.py), so that no reader's browser fetches them."""
    from domain.markdown import render_markdown

    client = schema_editor.client
    sqlite = schema_editor.DIALECT == "sqlite"
    html, row_id = ("?", "?") if sqlite else ("$1", "$2")
    for table in ("pages", "microposts"):
        _, rows = await client.execute_query(
            f"SELECT id, body FROM {table} WHERE body_html LIKE '%<img%'"
        )
        for row in rows:
            await client.execute_query(
                f"UPDATE {table} SET body_html = {html} WHERE id = {row_id}",
                [render_markdown(row["body"]), row["id"]],
            )


class Migration(migrations.Migration):
    dependencies = [('models', '0011_invitations_and_topics')]

    initial = False

    operations: list[ops.Operation] = [
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['uploaded_by_id', 'created_at']),
        ),
        ops.RunPython(images_as_links, ops.RunPython.noop),
    ]
