from tortoise import migrations
from tortoise.migrations import operations as ops
from models.mail_preferences import MailCategory, MailDelivery
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

CATEGORIES = 'MENTIONS_AND_REPLIES: MENTIONS_AND_REPLIES\nWATCHED: WATCHED\nREQUESTS: REQUESTS\nACCOUNT: ACCOUNT'


class Migration(migrations.Migration):
    dependencies = [('models', '0016_mail_outbox')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='MailPreference',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='mail_preferences', on_delete=OnDelete.CASCADE)),
                ('category', fields.CharEnumField(description=CATEGORIES, enum_type=MailCategory, max_length=24)),
                ('delivery', fields.CharEnumField(description='IMMEDIATE: IMMEDIATE\nDAILY: DAILY\nWEEKLY: WEEKLY\nOFF: OFF', enum_type=MailDelivery, max_length=12)),
                ('window_minutes', fields.SmallIntField(default=10)),
                ('digest_hour', fields.SmallIntField(default=8)),
                ('digest_weekday', fields.SmallIntField(default=0)),
                ('unsubscribe_token', fields.CharField(unique=True, max_length=64)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'mail_preferences', 'app': 'models', 'unique_together': (('user', 'category'),), 'pk_attr': 'id', 'table_description': 'How one user hears of one category by mail.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='MailQuietHours',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='mail_quiet_hours', on_delete=OnDelete.CASCADE)),
                ('start_hour', fields.SmallIntField()),
                ('end_hour', fields.SmallIntField()),
            ],
            options={'table': 'mail_quiet_hours', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Local hours in which no notification mail is sent: from ``start_hour`` (included)'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='PendingMail',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('notification_id', fields.BigIntField(unique=True)),
                ('user_id', fields.IntField()),
                ('category', fields.CharEnumField(description=CATEGORIES, enum_type=MailCategory, max_length=24)),
            ],
            options={'table': 'pending_mails', 'app': 'models', 'indexes': [Index(fields=['user_id', 'category'])], 'pk_attr': 'id', 'table_description': "A notification waiting for its user's batch or digest of ``category``. The ids are"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='UsedReplyToken',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('digest', fields.CharField(unique=True, max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('message_id', fields.CharField(default='', max_length=255)),
            ],
            options={'table': 'used_reply_tokens', 'app': 'models', 'pk_attr': 'id', 'table_description': "A reply address that has been used (its token's digest): each works once."},
            bases=['TimestampedModel'],
        ),
    ]
