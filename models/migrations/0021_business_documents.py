from tortoise import migrations
from tortoise.migrations import operations as ops
from models.events import EventKind
from models.business_documents import BusinessDocumentKind, BusinessDocumentStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0020_webhooks')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='BusinessDocument',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='business_documents', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='business_documents', on_delete=OnDelete.SET_NULL)),
                ('kind', fields.CharEnumField(description='QUOTE: QUOTE\nORDER: ORDER\nINVOICE: INVOICE\nCREDIT_NOTE: CREDIT_NOTE', enum_type=BusinessDocumentKind, max_length=16)),
                ('number', fields.CharField(max_length=64)),
                ('title', fields.CharField(max_length=200)),
                ('issue_date', fields.DateField()),
                ('due_date', fields.DateField(null=True)),
                ('net_amount', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('gross_amount', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(max_length=3)),
                ('status', fields.CharEnumField(description='SENT: SENT\nACCEPTED: ACCEPTED\nDECLINED: DECLINED\nEXPIRED: EXPIRED\nCONFIRMED: CONFIRMED\nDELIVERED: DELIVERED\nOPEN: OPEN\nPAID: PAID\nOVERDUE: OVERDUE\nISSUED: ISSUED\nSETTLED: SETTLED\nCANCELLED: CANCELLED', enum_type=BusinessDocumentStatus, max_length=16)),
                ('pdf_key', fields.CharField(null=True, description='SHA-256 of the PDF', max_length=64)),
                ('pdf_size', fields.BigIntField(null=True)),
                ('pdf_name', fields.CharField(null=True, max_length=200)),
                ('source', fields.CharField(null=True, max_length=64)),
                ('external_id', fields.CharField(null=True, max_length=200)),
                ('published_by', fields.ForeignKeyField('models.User', source_field='published_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decision_note', fields.TextField(default='', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'business_documents', 'app': 'models', 'unique_together': (('customer', 'kind', 'number'), ('source', 'external_id')), 'indexes': [Index(fields=['customer_id', 'issue_date'])], 'pk_attr': 'id', 'table_description': 'One document of a customer (optionally of one of its projects), numbered by the'},
            bases=['TimestampedModel'],
        ),
        ops.AlterField(
            model_name='Event',
            name='kind',
            field=fields.CharEnumField(description='MICROPOST_POSTED: MICROPOST_POSTED\nMICROPOST_EDITED: MICROPOST_EDITED\nPROJECT_STATUS_CHANGED: PROJECT_STATUS_CHANGED\nPAGE_CREATED: PAGE_CREATED\nPAGE_UPDATED: PAGE_UPDATED\nREQUEST_SUBMITTED: REQUEST_SUBMITTED\nREQUEST_STATUS_CHANGED: REQUEST_STATUS_CHANGED\nREQUEST_ASSIGNED: REQUEST_ASSIGNED\nREQUEST_REPLIED: REQUEST_REPLIED\nREQUEST_DOCUMENT_ADDED: REQUEST_DOCUMENT_ADDED\nREQUEST_DUE_DATE_CHANGED: REQUEST_DUE_DATE_CHANGED\nREQUEST_PARTICIPANT_ADDED: REQUEST_PARTICIPANT_ADDED\nREQUEST_SLA_WARNING: REQUEST_SLA_WARNING\nREQUEST_SLA_BREACHED: REQUEST_SLA_BREACHED\nREQUEST_REMINDED: REQUEST_REMINDED\nBUSINESS_DOCUMENT_PUBLISHED: BUSINESS_DOCUMENT_PUBLISHED\nBUSINESS_DOCUMENT_STATUS_CHANGED: BUSINESS_DOCUMENT_STATUS_CHANGED\nQUOTE_ACCEPTED: QUOTE_ACCEPTED\nQUOTE_DECLINED: QUOTE_DECLINED', enum_type=EventKind, max_length=32),
        ),
    ]
