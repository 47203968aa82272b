from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [('models', '0024_dashboard')]

    initial = False

    operations: list[migrations.Operation] = []
