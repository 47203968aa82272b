from tortoise import migrations
from tortoise.migrations import operations as ops
from models.events import EventKind
from models.watches import WatchTargetKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0022_library')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Event',
            name='customer',
            field=fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterField(
            model_name='Event',
            name='kind',
            field=fields.CharEnumField(description='MICROPOST_POSTED: MICROPOST_POSTED\nMICROPOST_EDITED: MICROPOST_EDITED\nPROJECT_STATUS_CHANGED: PROJECT_STATUS_CHANGED\nPAGE_CREATED: PAGE_CREATED\nPAGE_UPDATED: PAGE_UPDATED\nREQUEST_SUBMITTED: REQUEST_SUBMITTED\nREQUEST_STATUS_CHANGED: REQUEST_STATUS_CHANGED\nREQUEST_ASSIGNED: REQUEST_ASSIGNED\nREQUEST_REPLIED: REQUEST_REPLIED\nREQUEST_DOCUMENT_ADDED: REQUEST_DOCUMENT_ADDED\nREQUEST_DUE_DATE_CHANGED: REQUEST_DUE_DATE_CHANGED\nREQUEST_PARTICIPANT_ADDED: REQUEST_PARTICIPANT_ADDED\nREQUEST_SLA_WARNING: REQUEST_SLA_WARNING\nREQUEST_SLA_BREACHED: REQUEST_SLA_BREACHED\nREQUEST_REMINDED: REQUEST_REMINDED\nBUSINESS_DOCUMENT_PUBLISHED: BUSINESS_DOCUMENT_PUBLISHED\nBUSINESS_DOCUMENT_STATUS_CHANGED: BUSINESS_DOCUMENT_STATUS_CHANGED\nQUOTE_ACCEPTED: QUOTE_ACCEPTED\nQUOTE_DECLINED: QUOTE_DECLINED\nLIBRARY_DOCUMENT_PUBLISHED: LIBRARY_DOCUMENT_PUBLISHED\nLIBRARY_VERSION_ADDED: LIBRARY_VERSION_ADDED\nLIBRARY_STATE_CHANGED: LIBRARY_STATE_CHANGED\nLIBRARY_DOCUMENT_SUPERSEDED: LIBRARY_DOCUMENT_SUPERSEDED\nLIBRARY_ACK_REQUIRED: LIBRARY_ACK_REQUIRED\nLIBRARY_ACKNOWLEDGED: LIBRARY_ACKNOWLEDGED\nLIBRARY_DOCUMENT_MOVED: LIBRARY_DOCUMENT_MOVED\nLIBRARY_EXPIRY_REMINDED: LIBRARY_EXPIRY_REMINDED', enum_type=EventKind, max_length=32),
        ),
        ops.AddField(
            model_name='Event',
            name='library_document',
            field=fields.ForeignKeyField('models.LibraryDocument', source_field='library_document_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE),
        ),
        ops.AddIndex(
            model_name='Event',
            index=Index(fields=['library_document_id', 'id']),
        ),
        ops.AlterModelOptions(
            name='Watch',
            options={'table': 'watches', 'app': 'models', 'unique_together': (('user', 'target_key'),), 'pk_attr': 'id', 'table_description': "A user's chosen level of interest in one customer, project, page, topic, library"},
        ),
        ops.AlterField(
            model_name='Watch',
            name='kind',
            field=fields.CharEnumField(description='CUSTOMER: CUSTOMER\nPROJECT: PROJECT\nPAGE: PAGE\nTOPIC: TOPIC\nFOLDER: FOLDER\nDOCUMENT: DOCUMENT', enum_type=WatchTargetKind, max_length=10),
        ),
        ops.AddField(
            model_name='Watch',
            name='document',
            field=fields.ForeignKeyField('models.LibraryDocument', source_field='document_id', null=True, db_constraint=True, to_field='id', related_name='watches', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Watch',
            name='folder',
            field=fields.ForeignKeyField('models.LibraryFolder', source_field='folder_id', null=True, db_constraint=True, to_field='id', related_name='watches', on_delete=OnDelete.CASCADE),
        ),
    ]
