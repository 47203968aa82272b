from tortoise import migrations
from tortoise.migrations import operations as ops
from models.interactions import ContentKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0024_dashboard')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContactActivityDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('customer_id', fields.IntField()),
                ('day', fields.DateField()),
            ],
            options={'table': 'interaction_activity_days', 'app': 'models', 'unique_together': (('user', 'day'),), 'indexes': [Index(fields=['customer_id', 'day'])], 'pk_attr': 'id', 'table_description': 'A contact of ``customer_id`` read or searched something on ``day`` (UTC).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContentReadCount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='PAGE: PAGE\nDOCUMENT: DOCUMENT\nTIMELINE: TIMELINE', enum_type=ContentKind, max_length=10)),
                ('object_id', fields.IntField()),
                ('customer_id', fields.IntField()),
                ('day', fields.DateField()),
                ('reads', fields.IntField(default=0)),
            ],
            options={'table': 'interaction_reads', 'app': 'models', 'unique_together': (('kind', 'object_id', 'customer_id', 'day'),), 'indexes': [Index(fields=['customer_id', 'day'])], 'pk_attr': 'id', 'table_description': 'Reads of one page, library document or project timeline (``object_id``) by the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReadingSession',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session_key', fields.CharField(unique=True, max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('customer_id', fields.IntField()),
                ('first_read_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'interaction_sessions', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'first_read_at'])], 'pk_attr': 'id', 'table_description': 'A sign-in session of a contact (``session_key``: a digest of its ID) in which they'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SearchCount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer_id', fields.IntField()),
                ('day', fields.DateField()),
                ('terms', fields.CharField(max_length=200)),
                ('searches', fields.IntField(default=0)),
                ('found_nothing', fields.IntField(default=0)),
            ],
            options={'table': 'interaction_searches', 'app': 'models', 'unique_together': (('customer_id', 'day', 'terms'),), 'pk_attr': 'id', 'table_description': 'Searches made by the contacts of ``customer_id`` on ``day`` (UTC) with ``terms``'},
            bases=['Model'],
        ),
    ]
