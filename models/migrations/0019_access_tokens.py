from tortoise import migrations
from tortoise.migrations import operations as ops
from models.external_ids import ExternalKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0018_account_lifecycle')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='AccessToken',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='access_tokens', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('prefix', fields.CharField(max_length=24)),
                ('scopes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_address', fields.CharField(default='', max_length=64)),
                ('addresses', fields.JSONField(default=list, description='Addresses it was used from (the latest, at most 20)', encoder=JSON_DUMPS, decoder=loads)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'access_tokens', 'app': 'models', 'pk_attr': 'id', 'table_description': "A long-lived bearer token of a user (personal) or of a service account's user, with"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ExternalId',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('source', fields.CharField(max_length=64)),
                ('kind', fields.CharEnumField(description='CUSTOMER: CUSTOMER\nPROJECT: PROJECT\nUSER: USER', enum_type=ExternalKind, max_length=16)),
                ('external_id', fields.CharField(max_length=200)),
                ('object_id', fields.IntField()),
            ],
            options={'table': 'external_ids', 'app': 'models', 'unique_together': (('source', 'kind', 'external_id'), ('source', 'kind', 'object_id')), 'pk_attr': 'id', 'table_description': '``external_id`` of the system ``source`` names the ``kind`` object ``object_id``:'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='IdempotentRequest',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('caller', fields.CharField(max_length=64)),
                ('key', fields.CharField(max_length=255)),
                ('request_hash', fields.CharField(max_length=64)),
                ('status', fields.IntField(null=True, description='Null while the first request runs')),
                ('media_type', fields.CharField(default='', max_length=100)),
                ('body', fields.TextField(default='', unique=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'idempotent_requests', 'app': 'models', 'unique_together': (('caller', 'key'),), 'pk_attr': 'id', 'table_description': 'The first request with a key of one caller: a hash of its body and, once it has'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ServiceAccount',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='service_account', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('deactivated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'service_accounts', 'app': 'models', 'pk_attr': 'id', 'table_description': "An integration's identity. It signs in only with its access tokens: its ``user`` row"},
            bases=['TimestampedModel'],
        ),
    ]
