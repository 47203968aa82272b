from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_two_factor')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersistedDocument',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(unique=True, description='SHA-256 of the text', max_length=64)),
                ('normalized_sha256', fields.CharField(db_index=True, description='SHA-256 of the text as graphql-core prints it', max_length=64)),
                ('query', fields.TextField(unique=False)),
                ('operation_name', fields.CharField(null=True, max_length=200)),
                ('registered_by', fields.ForeignKeyField('models.User', source_field='registered_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'persisted_documents', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A GraphQL document an administrator registered.'},
            bases=['TimestampedModel'],
        ),
    ]
