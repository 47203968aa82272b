from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_attachments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RecoveryCode',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='recovery_codes', on_delete=OnDelete.CASCADE)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recovery_codes', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A single-use two-factor recovery code, kept only as a hash.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='SiteSetting',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('value', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'site_settings', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A setting that administrators change at run time (shared by every process).'},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='Customer',
            name='mfa_required',
            field=fields.BooleanField(default=False, description='Its contacts must sign in with a second factor'),
        ),
        ops.AddField(
            model_name='User',
            name='totp_enabled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='totp_last_step',
            field=fields.BigIntField(null=True, description='The time step of the last code accepted (no replays)'),
        ),
        ops.AddField(
            model_name='User',
            name='totp_pending_secret',
            field=fields.CharField(null=True, description='Enrolled, not confirmed yet', max_length=64),
        ),
        ops.AddField(
            model_name='User',
            name='totp_secret',
            field=fields.CharField(null=True, description='Set while two-factor sign-in is on', max_length=64),
        ),
    ]
