from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_page_tree_and_comments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('page', fields.ForeignKeyField('models.Page', source_field='page_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('version', fields.IntField()),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('content_key', fields.CharField(description='SHA-256 of the content', max_length=64)),
                ('uploaded_by', fields.ForeignKeyField('models.User', source_field='uploaded_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'attachments', 'app': 'models', 'unique_together': (('page', 'name', 'version'),), 'pk_attr': 'id', 'table_description': 'One version of a file attached to a concept page (a quote, an order, a spec).'},
            bases=['TimestampedModel'],
        ),
    ]
