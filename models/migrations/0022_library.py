from tortoise import migrations
from tortoise.migrations import operations as ops
from models.library import DocumentState, DocumentType, ReminderKind, TextStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0021_business_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LibraryFolder',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('parent', fields.ForeignKeyField('models.LibraryFolder', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('open_to_members', fields.BooleanField(default=True)),
            ],
            options={'table': 'library_folders', 'app': 'models', 'pk_attr': 'id', 'table_description': "A folder of the shared library (``customer`` null) or of one customer's library."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='LibraryDocument',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('folder', fields.ForeignKeyField('models.LibraryFolder', source_field='folder_id', null=True, db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.SET_NULL)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('type', fields.CharEnumField(description='CERTIFICATE: CERTIFICATE\nCONTRACT: CONTRACT\nMANUAL: MANUAL\nPROCEDURE: PROCEDURE\nPRICE_LIST: PRICE_LIST\nTERMS: TERMS\nTRAINING: TRAINING\nOTHER: OTHER', enum_type=DocumentType, max_length=16)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('tags', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('offered_to_all', fields.BooleanField(default=True)),
                ('valid_from', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('valid_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('superseded_by', fields.ForeignKeyField('models.LibraryDocument', source_field='superseded_by_id', null=True, db_constraint=True, to_field='id', related_name='supersedes', on_delete=OnDelete.SET_NULL)),
                ('superseded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('requires_acknowledgement', fields.BooleanField(default=False)),
                ('recorded_state', fields.CharEnumField(default=DocumentState.DRAFT, description='DRAFT: DRAFT\nVALID: VALID\nEXPIRED: EXPIRED\nSUPERSEDED: SUPERSEDED', enum_type=DocumentState, max_length=16)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'library_documents', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A document, its file in its :class:`DocumentVersion` rows (the newest not'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='DocumentReminder',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document', fields.ForeignKeyField('models.LibraryDocument', source_field='document_id', db_constraint=True, to_field='id', related_name='reminders', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='EXPIRES_IN_30_DAYS: EXPIRES_IN_30_DAYS\nEXPIRES_IN_7_DAYS: EXPIRES_IN_7_DAYS\nEXPIRES_TODAY: EXPIRES_TODAY\nEXPIRED: EXPIRED\nSUPERSEDED: SUPERSEDED', enum_type=ReminderKind, max_length=24)),
                ('moment', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'library_reminders', 'app': 'models', 'unique_together': (('document', 'user', 'kind', 'moment'),), 'pk_attr': 'id', 'table_description': 'A reminder sent about a document: to its owner before and on its expiry, to the'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='DocumentVersion',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document', fields.ForeignKeyField('models.LibraryDocument', source_field='document_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('name', fields.CharField(max_length=200)),
                ('label', fields.CharField(default='', max_length=100)),
                ('note', fields.TextField(default='', unique=False)),
                ('content_key', fields.CharField(description='SHA-256 of the content', max_length=64)),
                ('size', fields.BigIntField()),
                ('content_type', fields.CharField(max_length=100)),
                ('uploaded_by', fields.ForeignKeyField('models.User', source_field='uploaded_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('restored_from', fields.ForeignKeyField('models.DocumentVersion', source_field='restored_from_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_by', fields.ForeignKeyField('models.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('text_status', fields.CharEnumField(default=TextStatus.PENDING, description='PENDING: PENDING\nEXTRACTED: EXTRACTED\nNOT_EXTRACTABLE: NOT_EXTRACTABLE', enum_type=TextStatus, max_length=16)),
                ('text_error', fields.CharField(default='', max_length=200)),
                ('text', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'library_document_versions', 'app': 'models', 'unique_together': (('document', 'number'),), 'pk_attr': 'id', 'table_description': 'One file of a document, stored by its SHA-256 (``content_key``). Never deleted by'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='DocumentAcknowledgement',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.ForeignKeyField('models.DocumentVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='acknowledgements', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'library_acknowledgements', 'app': 'models', 'unique_together': (('version', 'user'),), 'pk_attr': 'id', 'table_description': 'A contact acknowledged one version (``created_at``: when).'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='DocumentDownload',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.ForeignKeyField('models.DocumentVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='downloads', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'library_downloads', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One download of one version by one user (``created_at``: when).'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='LibraryDocumentOffer',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document', fields.ForeignKeyField('models.LibraryDocument', source_field='document_id', db_constraint=True, to_field='id', related_name='offers', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'library_document_offers', 'app': 'models', 'unique_together': (('document', 'customer'),), 'pk_attr': 'id', 'table_description': 'A customer a shared document not offered to all is offered to.'},
            bases=['TimestampedModel'],
        ),
    ]
