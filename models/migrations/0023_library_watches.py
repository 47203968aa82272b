from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [('models', '0022_library')]

    initial = False

    operations: list[migrations.Operation] = []
