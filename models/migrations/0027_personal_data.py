import secrets

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.personal_data import ExportStatus
from models.users import new_pseudonym
from tortoise.fields.base import OnDelete
from tortoise import fields


async def draw_pseudonyms(_apps, schema_editor) -> None:
    """A random pseudonymous ID for each existing account (audit entries name users by it;
    the entries already written are chained by the next one appended)."""
    client = schema_editor.client
    update = (
        "UPDATE users SET pseudonym = ? WHERE id = ?"
        if schema_editor.DIALECT == "sqlite"
        else "UPDATE users SET pseudonym = $1 WHERE id = $2"
    )
    _, rows = await client.execute_query("SELECT id FROM users WHERE pseudonym = ''")
    for row in rows:
        await client.execute_query(update, [secrets.token_hex(16), row["id"]])


class Migration(migrations.Migration):
    dependencies = [('models', '0026_security_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersonalDataExport',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('requested_by', fields.ForeignKeyField('models.User', source_field='requested_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=ExportStatus.PENDING, description='PENDING: PENDING\nREADY: READY\nFAILED: FAILED', enum_type=ExportStatus, max_length=10)),
                ('content_key', fields.CharField(null=True, description='SHA-256 of the ZIP', max_length=64)),
                ('size', fields.BigIntField(default=0, description='Bytes')),
                ('ready_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'personal_data_exports', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A ZIP of everything about one user, made in the background (actions/personal_data.py)'},
            bases=['TimestampedModel'],
        ),
        ops.AlterModelOptions(
            name='AuditEntry',
            options={'table': 'audit_entries', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Who did what sensitive thing when. Append-only, hash-chained (domain/audit_chain.py):'},
        ),
        ops.AddField(
            model_name='AuditEntry',
            name='actor_ref',
            field=fields.CharField(default='', db_default='', max_length=32),
        ),
        ops.AddField(
            model_name='AuditEntry',
            name='entry_hash',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='AuditEntry',
            name='previous_hash',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='AuditEntry',
            name='sequence',
            field=fields.BigIntField(null=True, unique=True, description='Its place in the chain'),
        ),
        ops.AddField(
            model_name='AuditEntry',
            name='subject',
            field=fields.ForeignKeyField('models.User', source_field='subject_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='AuditEntry',
            name='subject_ref',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=32),
        ),
        ops.AddField(
            model_name='User',
            name='erased_at',
            field=fields.DatetimeField(null=True, description='When its personal data was erased (a tombstone since)', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='pseudonym',
            field=fields.CharField(default=new_pseudonym, db_default='', db_index=True, description='Random ID that audit entries name the user by', max_length=32),
        ),
        ops.AddField(
            model_name='User',
            name='tombstone_number',
            field=fields.IntField(null=True, description='Its number among the erased accounts of its customer or staff'),
        ),
        ops.RunPython(draw_pseudonyms, ops.RunPython.noop),
    ]
