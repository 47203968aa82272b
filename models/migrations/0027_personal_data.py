from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [('models', '0026_security_audit')]

    initial = False

    operations: list[migrations.Operation] = []
