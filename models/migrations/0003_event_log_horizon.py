from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EventLogHorizon',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('oldest_kept_id', fields.BigIntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'event_log_horizon', 'app': 'models', 'pk_attr': 'id', 'table_description': 'How far back the event log reaches: events with smaller ids were pruned, so a'},
            bases=['TimestampedModel'],
        ),
    ]
