from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [('models', '0025_interactions')]

    initial = False

    operations: list[migrations.Operation] = []
