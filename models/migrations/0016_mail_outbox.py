from tortoise import migrations
from tortoise.migrations import operations as ops
from models.mail import MailStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0015_requests')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutgoingMail',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('to_address', fields.CharField(max_length=320)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('template', fields.CharField(max_length=64)),
                ('subject', fields.CharField(max_length=250)),
                ('context', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('category', fields.CharField(null=True, max_length=40)),
                ('thread_key', fields.CharField(null=True, max_length=100)),
                ('unsubscribe_url', fields.CharField(null=True, max_length=2000)),
                ('reply_to', fields.CharField(null=True, max_length=320)),
                ('message_token', fields.CharField(unique=True, description='the left side of its Message-ID, fixed when queued', max_length=64)),
                ('status', fields.CharEnumField(default=MailStatus.QUEUED, description='QUEUED: QUEUED\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED', enum_type=MailStatus, max_length=8)),
                ('attempts', fields.IntField(default=0, description='sending attempts begun')),
                ('handed_over_at', fields.DatetimeField(null=True, description='when the message itself began to leave (the SMTP DATA)', auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outgoing_mails', 'app': 'models', 'indexes': [Index(fields=['status', 'created_at']), Index(fields=['user_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'The outbox: every mail, recorded before it is sent.'},
            bases=['TimestampedModel'],
        ),
    ]
