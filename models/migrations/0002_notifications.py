from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications import NotificationReason
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Notification',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('event', fields.ForeignKeyField('models.Event', source_field='event_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharEnumField(description='MENTIONED: MENTIONED\nREPLIED: REPLIED\nPARTICIPATING: PARTICIPATING\nWATCHING: WATCHING', enum_type=NotificationReason, max_length=16)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notifications', 'app': 'models', 'unique_together': (('user', 'event'),), 'indexes': [Index(fields=['user_id', 'read_at'])], 'pk_attr': 'id', 'table_description': 'What one event produced for one user, with read state: the inbox that replaces email.'},
            bases=['TimestampedModel'],
        ),
    ]
