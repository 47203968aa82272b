from tortoise import migrations
from tortoise.migrations import operations as ops
from models.jobs import JobStatus
from tortoise import fields
from tortoise.indexes import Index

# At most one PENDING job per key: a partial unique index, which SQLite and PostgreSQL both
# have (the ORM declares them on PostgreSQL only, so it is made here). Enqueueing a key
# again is an upsert on it (INSERT ... ON CONFLICT (key) WHERE status = 'PENDING').
PENDING_KEY = "CREATE UNIQUE INDEX jobs_pending_key ON jobs (key) WHERE status = 'PENDING'"


class Migration(migrations.Migration):
    dependencies = [('models', '0013_text_normalisation')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='Job',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=100)),
                ('key', fields.CharField(null=True, max_length=200)),
                ('payload', fields.JSONField(default=dict)),
                ('run_at', fields.DatetimeField(description='when it is due (UTC)', auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=JobStatus.PENDING, description='PENDING: PENDING\nRUNNING: RUNNING\nDONE: DONE\nFAILED: FAILED', enum_type=JobStatus, max_length=8)),
                ('attempts', fields.IntField(default=0, description='claims so far, this one included')),
                ('leased_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('leased_by', fields.CharField(null=True, max_length=120)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('started_at', fields.DatetimeField(null=True, description='when its last attempt began', auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'jobs', 'app': 'models', 'indexes': [Index(fields=['status', 'run_at'])], 'pk_attr': 'id', 'table_description': 'One piece of background work of a ``kind`` (the name its handler registered), with a'},
            bases=['TimestampedModel'],
        ),
        ops.RunSQL(PENDING_KEY, "DROP INDEX IF EXISTS jobs_pending_key"),
    ]
