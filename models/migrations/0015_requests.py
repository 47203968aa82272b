from tortoise import migrations
from tortoise.migrations import operations as ops
from models._base import Visibility
from models.events import EventKind
from models.requests import RequestStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_background_jobs')]

    initial = False

    operations: list[ops.Operation] = [
        ops.CreateModel(
            name='BusinessCalendar',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=200)),
                ('definition', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'business_calendars', 'app': 'models', 'pk_attr': 'id', 'table_description': "Working time: ``definition`` is the JSON form of domain/business_hours.py's calendar"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='RequestCounter',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.OneToOneField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('last_number', fields.IntField(default=0)),
            ],
            options={'table': 'request_counters', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The last request number given to a customer: drawn by an UPDATE in the submitting'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='RequestType',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('form', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('lifecycle', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('reopen_days', fields.IntField(default=14)),
                ('default_assignee', fields.ForeignKeyField('models.User', source_field='default_assignee_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('offered_to_all', fields.BooleanField(default=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'request_types', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A kind of request that administrators define: its form, lifecycle, reopening window'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='RequestTypeOffer',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request_type', fields.ForeignKeyField('models.RequestType', source_field='request_type_id', db_constraint=True, to_field='id', related_name='offers', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'request_type_offers', 'app': 'models', 'unique_together': (('request_type', 'customer'),), 'pk_attr': 'id', 'table_description': 'A customer a request type not offered to all is offered to.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ServiceRequest',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='requests', on_delete=OnDelete.RESTRICT)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='requests', on_delete=OnDelete.SET_NULL)),
                ('request_type', fields.ForeignKeyField('models.RequestType', source_field='request_type_id', db_constraint=True, to_field='id', related_name='requests', on_delete=OnDelete.RESTRICT)),
                ('number', fields.IntField(description='Per customer, from 1')),
                ('reference', fields.CharField(unique=True, description='ACME-42', max_length=80)),
                ('title', fields.CharField(max_length=200)),
                ('requester', fields.ForeignKeyField('models.User', source_field='requester_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('assignee', fields.ForeignKeyField('models.User', source_field='assignee_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=RequestStatus.RECEIVED, description='RECEIVED: RECEIVED\nIN_PROGRESS: IN_PROGRESS\nNEEDS_INFO: NEEDS_INFO\nAPPROVED: APPROVED\nREJECTED: REJECTED\nRESOLVED: RESOLVED\nWITHDRAWN: WITHDRAWN', enum_type=RequestStatus, max_length=20)),
                ('due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_step', fields.TextField(default='', unique=False)),
                ('answers', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('first_response_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed', fields.BooleanField(default=False, description='Closed for good: not reopenable')),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'service_requests', 'app': 'models', 'unique_together': (('customer', 'number'),), 'indexes': [Index(fields=['customer_id', 'status'])], 'pk_attr': 'id', 'table_description': "One request of a customer's contact (``Request`` in the API)."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ExpectedDocument',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('models.ServiceRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='expected_documents', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('required', fields.BooleanField(default=True)),
                ('received_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'request_expected_documents', 'app': 'models', 'pk_attr': 'id', 'table_description': "An item of a request's checklist: a document the provider waits for."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='RequestMessage',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('models.ServiceRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('body', fields.TextField(unique=False)),
                ('body_html', fields.TextField(default='', unique=False)),
                ('visibility', fields.CharEnumField(default=Visibility.SHARED, description='SHARED: SHARED\nINTERNAL: INTERNAL', enum_type=Visibility, max_length=10)),
            ],
            options={'table': 'request_messages', 'app': 'models', 'pk_attr': 'id', 'table_description': "A reply in a request's conversation (INTERNAL ones are staff notes)."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='RequestAttachment',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('request', fields.ForeignKeyField('models.ServiceRequest', source_field='request_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('message', fields.ForeignKeyField('models.RequestMessage', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.SET_NULL)),
                ('expected_document', fields.ForeignKeyField('models.ExpectedDocument', source_field='expected_document_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.SET_NULL)),
                ('name', fields.CharField(max_length=200)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('content_key', fields.CharField(description='SHA-256 of the content', max_length=64)),
                ('uploaded_by', fields.ForeignKeyField('models.User', source_field='uploaded_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'request_attachments', 'app': 'models', 'pk_attr': 'id', 'table_description': "A file uploaded for a request of a customer (its content in the attachments' blob"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='RequestParticipant',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('models.ServiceRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='participants', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'request_participants', 'app': 'models', 'unique_together': (('request', 'user'),), 'pk_attr': 'id', 'table_description': "A contact of the request's customer who sees and follows it like its requester."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='RequestStatusChange',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request', fields.ForeignKeyField('models.ServiceRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='status_changes', on_delete=OnDelete.CASCADE)),
                ('from_status', fields.CharEnumField(null=True, description='RECEIVED: RECEIVED\nIN_PROGRESS: IN_PROGRESS\nNEEDS_INFO: NEEDS_INFO\nAPPROVED: APPROVED\nREJECTED: REJECTED\nRESOLVED: RESOLVED\nWITHDRAWN: WITHDRAWN', enum_type=RequestStatus, max_length=20)),
                ('to_status', fields.CharEnumField(description='RECEIVED: RECEIVED\nIN_PROGRESS: IN_PROGRESS\nNEEDS_INFO: NEEDS_INFO\nAPPROVED: APPROVED\nREJECTED: REJECTED\nRESOLVED: RESOLVED\nWITHDRAWN: WITHDRAWN', enum_type=RequestStatus, max_length=20)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'request_status_changes', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One recorded status of a request: from (None at submission), to, who, why, when.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='SlaPolicy',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('request_type', fields.ForeignKeyField('models.RequestType', source_field='request_type_id', db_constraint=True, to_field='id', related_name='sla_policies', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('calendar', fields.ForeignKeyField('models.BusinessCalendar', source_field='calendar_id', db_constraint=True, to_field='id', related_name='sla_policies', on_delete=OnDelete.RESTRICT)),
                ('first_response_minutes', fields.IntField(null=True)),
                ('resolution_minutes', fields.IntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'sla_policies', 'app': 'models', 'unique_together': (('request_type', 'customer'),), 'pk_attr': 'id', 'table_description': 'Targets of a request type (for one customer when ``customer`` is set, overriding the'},
            bases=['TimestampedModel'],
        ),
        ops.AlterField(
            model_name='Event',
            name='kind',
            field=fields.CharEnumField(description='MICROPOST_POSTED: MICROPOST_POSTED\nMICROPOST_EDITED: MICROPOST_EDITED\nPROJECT_STATUS_CHANGED: PROJECT_STATUS_CHANGED\nPAGE_CREATED: PAGE_CREATED\nPAGE_UPDATED: PAGE_UPDATED\nREQUEST_SUBMITTED: REQUEST_SUBMITTED\nREQUEST_STATUS_CHANGED: REQUEST_STATUS_CHANGED\nREQUEST_ASSIGNED: REQUEST_ASSIGNED\nREQUEST_REPLIED: REQUEST_REPLIED\nREQUEST_DOCUMENT_ADDED: REQUEST_DOCUMENT_ADDED\nREQUEST_DUE_DATE_CHANGED: REQUEST_DUE_DATE_CHANGED\nREQUEST_PARTICIPANT_ADDED: REQUEST_PARTICIPANT_ADDED\nREQUEST_SLA_WARNING: REQUEST_SLA_WARNING\nREQUEST_SLA_BREACHED: REQUEST_SLA_BREACHED\nREQUEST_REMINDED: REQUEST_REMINDED', enum_type=EventKind, max_length=32),
        ),
        ops.AlterField(
            model_name='Event',
            name='project',
            field=fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Event',
            name='request',
            field=fields.ForeignKeyField('models.ServiceRequest', source_field='request_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE),
        ),
        ops.AddIndex(
            model_name='Event',
            index=Index(fields=['request_id', 'id']),
        ),
    ]
