from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0014_background_jobs')]

    initial = False

    operations: list[ops.Operation] = []
