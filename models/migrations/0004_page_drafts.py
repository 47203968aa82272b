from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_event_log_horizon')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PageDraft',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('page', fields.ForeignKeyField('models.Page', source_field='page_id', db_constraint=True, to_field='id', related_name='drafts', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('base_revision', fields.IntField()),
                ('title', fields.CharField(null=True, max_length=200)),
                ('body', fields.TextField(null=True, unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'page_drafts', 'app': 'models', 'unique_together': (('page', 'author'),), 'pk_attr': 'id', 'table_description': 'An edit that could not be merged into the page, kept for its author to resolve.'},
            bases=['TimestampedModel'],
        ),
    ]
