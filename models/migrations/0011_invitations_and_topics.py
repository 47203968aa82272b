from tortoise import migrations
from tortoise.migrations import operations as ops
from models._base import Role
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

# Invitations made before they were pending rows pointed at an account made for them:
# they take the address, name, role and customer of that account.
BACKFILL_INVITATIONS = """
UPDATE invitations SET
    customer_id = (SELECT users.customer_id FROM users WHERE users.id = invitations.user_id),
    email = (SELECT users.email FROM users WHERE users.id = invitations.user_id),
    name = (SELECT users.name FROM users WHERE users.id = invitations.user_id),
    role = (SELECT users.role FROM users WHERE users.id = invitations.user_id)
WHERE user_id IS NOT NULL
"""



# SQLite changes a column by copying the table and dropping the old one: with foreign keys
# on, dropping `users` would delete every row that refers to a user (ON DELETE CASCADE).
# So foreign keys are off while this migration runs there, which needs it not atomic.
async def foreign_keys_off(apps: object, editor: BaseSchemaEditor) -> None:
    if editor.DIALECT == "sqlite":
        await editor.client.execute_script("PRAGMA foreign_keys = OFF")


async def foreign_keys_on(apps: object, editor: BaseSchemaEditor) -> None:
    if editor.DIALECT == "sqlite":
        await editor.client.execute_script("PRAGMA foreign_keys = ON")


class Migration(migrations.Migration):
    dependencies = [('models', '0010_sessions')]

    initial = False
    atomic = False

    operations = [
        ops.RunPython(foreign_keys_off, foreign_keys_on),
        ops.CreateModel(
            name='CustomerEmailDomain',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='email_domains', on_delete=OnDelete.CASCADE)),
                ('domain', fields.CharField(unique=True, max_length=253)),
            ],
            options={'table': 'customer_email_domains', 'app': 'models', 'pk_attr': 'id', 'table_description': "An email domain of a customer's own (set by administrators): its lead contacts may"},
            bases=['TimestampedModel'],
        ),
        ops.AlterModelOptions(
            name='Invitation',
            options={'table': 'invitations', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An invitation of an email address to join a customer as a contact. It is only a'},
        ),
        ops.AlterField(
            model_name='Invitation',
            name='user',
            field=fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Invitation',
            name='customer',
            field=fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Invitation',
            name='email',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=254),
        ),
        ops.AddField(
            model_name='Invitation',
            name='name',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Invitation',
            name='project_ids',
            field=fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Invitation',
            name='role',
            field=fields.CharEnumField(null=True, description='ADMIN: ADMIN\nSTAFF: STAFF\nCUSTOMER_ADMIN: CUSTOMER_ADMIN\nCUSTOMER_MEMBER: CUSTOMER_MEMBER', enum_type=Role, max_length=20),
        ),
        ops.RunSQL(BACKFILL_INVITATIONS),
        ops.AlterField(
            model_name='User',
            name='handle',
            field=fields.CharField(db_index=True, max_length=40),
        ),
        ops.AddConstraint(
            model_name='User',
            constraint=UniqueConstraint(fields=('customer', 'handle'), name=None),
        ),
        ops.RunPython(foreign_keys_on, foreign_keys_off),
    ]
