from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_invitations_and_topics')]

    initial = False

    operations: list[ops.Operation] = [
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['uploaded_by_id', 'created_at']),
        ),
    ]
