from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0017_mail_preferences')]

    initial = False

    operations = [
        ops.CreateModel(
            name='KnownSignInAddress',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('address_hash', fields.CharField(max_length=64)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'known_sign_in_addresses', 'app': 'models', 'unique_together': (('user', 'address_hash'),), 'pk_attr': 'id', 'table_description': 'A network an account has signed in from, kept as a keyed hash of the address (its'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='PasswordResetToken',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'password_reset_tokens', 'app': 'models', 'pk_attr': 'id', 'table_description': "A single-use, short-lived link to set a new password, mailed to the account's"},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='Invitation',
            name='revoked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Invitation',
            name='sent_at',
            field=fields.DatetimeField(null=True, description='When it was last mailed', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='deactivated_at',
            field=fields.DatetimeField(null=True, description='When it was deactivated (null while it may sign in)', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='locale',
            field=fields.CharField(default='en', description='A BCP 47 language tag', db_default='en', max_length=35),
        ),
        ops.AddField(
            model_name='User',
            name='time_zone',
            field=fields.CharField(default='UTC', description='An IANA time zone name', db_default='UTC', max_length=64),
        ),
    ]
