from tortoise import migrations
from tortoise.migrations import operations as ops
from models.security import SecurityAlertState, SecurityRule
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0025_interactions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SecurityAlert',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('rule', fields.CharEnumField(description='NEW_NETWORK_SIGN_IN: NEW_NETWORK_SIGN_IN\nFAILED_SIGN_INS: FAILED_SIGN_INS\nCROSS_TENANT_PROBING: CROSS_TENANT_PROBING\nTOKEN_NEW_ADDRESS: TOKEN_NEW_ADDRESS\nDOWNLOAD_BURST: DOWNLOAD_BURST', enum_type=SecurityRule, max_length=32)),
                ('subject_key', fields.CharField(description="What triggers coalesce by: the rule's subject", max_length=100)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('address', fields.CharField(default='', description='The client address', max_length=64)),
                ('details', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('first_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('count', fields.IntField(default=1, description='Triggers coalesced into this alert')),
                ('state', fields.CharEnumField(default=SecurityAlertState.OPEN, description='OPEN: OPEN\nACKNOWLEDGED: ACKNOWLEDGED\nRESOLVED: RESOLVED', enum_type=SecurityAlertState, max_length=12)),
                ('acknowledged_by', fields.ForeignKeyField('models.User', source_field='acknowledged_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('acknowledged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_by', fields.ForeignKeyField('models.User', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution_note', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'security_alerts', 'app': 'models', 'indexes': [Index(fields=['rule', 'subject_key', 'state']), Index(fields=['customer_id', 'id']), Index(fields=['state', 'id'])], 'pk_attr': 'id', 'table_description': 'One rule triggered for one subject (an account, or a client address for failed'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='SeenNetwork',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('subject_id', fields.IntField(description="The user's or the access token's ID")),
                ('network_hash', fields.CharField(max_length=64)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'security_seen_networks', 'app': 'models', 'unique_together': (('kind', 'subject_id', 'network_hash'),), 'pk_attr': 'id', 'table_description': 'A network an account signed in from (``kind`` ``sign_in``) or an access token was'},
            bases=['TimestampedModel'],
        ),
    ]
