from tortoise import migrations
from tortoise.migrations import operations as ops
from models.webhooks import WebhookDeliveryStatus, WebhookState
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.indexes import Index
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0019_access_tokens')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=2000)),
                ('description', fields.CharField(default='', max_length=200)),
                ('event_types', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('secret', fields.CharField(max_length=100)),
                ('previous_secret', fields.CharField(null=True, max_length=100)),
                ('previous_secret_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cursor', fields.BigIntField(default=0)),
                ('state', fields.CharEnumField(default=WebhookState.ACTIVE, description='ACTIVE: ACTIVE\nPAUSED: PAUSED\nDISABLED: DISABLED', enum_type=WebhookState, max_length=10)),
                ('state_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('state_reason', fields.CharField(default='', max_length=500)),
                ('consecutive_failures', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoints', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An HTTP endpoint that receives the events its ``owner`` may read, in log order.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event_id', fields.BigIntField()),
                ('event_type', fields.CharField(max_length=32)),
                ('webhook_id', fields.CharField(max_length=64)),
                ('attempt', fields.IntField()),
                ('manual', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(description='SUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=WebhookDeliveryStatus, max_length=10)),
                ('duration_ms', fields.IntField(default=0)),
                ('response_code', fields.IntField(null=True)),
                ('response_body', fields.TextField(default='', unique=False)),
                ('error', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'webhook_deliveries', 'app': 'models', 'indexes': [Index(fields=['endpoint_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One attempt to deliver event ``event_id`` to an endpoint: ``webhook_id`` is the same'},
            bases=['TimestampedModel'],
        ),
    ]
