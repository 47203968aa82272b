from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [('models', '0023_library_watches')]

    initial = False

    operations: list[migrations.Operation] = []
