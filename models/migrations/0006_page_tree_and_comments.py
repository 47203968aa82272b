from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_search')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Micropost',
            name='page',
            field=fields.ForeignKeyField('models.Page', source_field='page_id', null=True, db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Page',
            name='parent',
            field=fields.ForeignKeyField('models.Page', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.SET_NULL),
        ),
    ]
