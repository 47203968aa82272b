from tortoise import migrations
from tortoise.migrations import operations as ops
from models._base import Role, Visibility
from models.events import EventKind
from models.projects import ProjectStatus
from models.watches import WatchLevel, WatchTargetKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Customer',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('slug', fields.CharField(unique=True, max_length=64)),
                ('internal_notes', fields.TextField(default='', unique=False)),
                ('annual_budget', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
            ],
            options={'table': 'customers', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A B2B customer of the provider: the tenant boundary for external users.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Project',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='projects', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('description_html', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=ProjectStatus.PROPOSED, description='PROPOSED: PROPOSED\nACTIVE: ACTIVE\nON_HOLD: ON_HOLD\nCOMPLETED: COMPLETED\nCANCELLED: CANCELLED', enum_type=ProjectStatus, max_length=20)),
                ('budget', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'projects', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Topic',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
            ],
            options={'table': 'topics', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A #hashtag shared across projects, stored lower-case.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('handle', fields.CharField(unique=True, max_length=40)),
                ('name', fields.CharField(max_length=200)),
                ('role', fields.CharEnumField(description='ADMIN: ADMIN\nSTAFF: STAFF\nCUSTOMER_ADMIN: CUSTOMER_ADMIN\nCUSTOMER_MEMBER: CUSTOMER_MEMBER', enum_type=Role, max_length=20)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='contacts', on_delete=OnDelete.RESTRICT)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('is_active', fields.BooleanField(default=True)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id', 'table_description': "A person who signs in: provider staff (no customer) or a customer's contact."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='AccountTeamMembership',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='account_team_memberships', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='account_team_memberships', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'account_team_memberships', 'app': 'models', 'unique_together': (('customer', 'user'),), 'pk_attr': 'id', 'table_description': "A staff member on a customer's account team."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('action', fields.CharField(db_index=True, max_length=64)),
                ('target', fields.CharField(default='', max_length=200)),
                ('client_address', fields.CharField(default='', max_length=64)),
                ('details', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'audit_entries', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Who did what sensitive thing when. Append-only.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Event',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='MICROPOST_POSTED: MICROPOST_POSTED\nMICROPOST_EDITED: MICROPOST_EDITED\nPROJECT_STATUS_CHANGED: PROJECT_STATUS_CHANGED\nPAGE_CREATED: PAGE_CREATED\nPAGE_UPDATED: PAGE_UPDATED', enum_type=EventKind, max_length=32)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('visibility', fields.CharEnumField(default=Visibility.SHARED, description='SHARED: SHARED\nINTERNAL: INTERNAL', enum_type=Visibility, max_length=10)),
                ('micropost_id', fields.IntField(null=True)),
                ('page_id', fields.IntField(null=True)),
                ('payload', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'events', 'app': 'models', 'indexes': [Index(fields=['project_id', 'id'])], 'pk_attr': 'id', 'table_description': 'The durable record of one timeline change, whose id is the subscription cursor.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Invitation',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('invited_by', fields.ForeignKeyField('models.User', source_field='invited_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'invitations', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A pending invitation of a contact, accepted once with a token whose hash is kept.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Micropost',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='microposts', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name='microposts', on_delete=OnDelete.RESTRICT)),
                ('parent', fields.ForeignKeyField('models.Micropost', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.CASCADE)),
                ('body', fields.TextField(unique=False)),
                ('body_html', fields.TextField(unique=False)),
                ('visibility', fields.CharEnumField(default=Visibility.SHARED, description='SHARED: SHARED\nINTERNAL: INTERNAL', enum_type=Visibility, max_length=10)),
                ('edited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'microposts', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A short Markdown post on a project timeline, or a reply to one.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='MicropostEdit',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('micropost', fields.ForeignKeyField('models.Micropost', source_field='micropost_id', db_constraint=True, to_field='id', related_name='edits', on_delete=OnDelete.CASCADE)),
                ('previous_body', fields.TextField(unique=False)),
                ('editor', fields.ForeignKeyField('models.User', source_field='editor_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'micropost_edits', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The text a micropost had before an edit.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='MicropostMention',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('micropost', fields.ForeignKeyField('models.Micropost', source_field='micropost_id', db_constraint=True, to_field='id', related_name='mention_links', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='mention_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'micropost_mentions', 'app': 'models', 'unique_together': (('micropost', 'user'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='MicropostTopic',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('micropost', fields.ForeignKeyField('models.Micropost', source_field='micropost_id', db_constraint=True, to_field='id', related_name='topic_links', on_delete=OnDelete.CASCADE)),
                ('topic', fields.ForeignKeyField('models.Topic', source_field='topic_id', db_constraint=True, to_field='id', related_name='micropost_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'micropost_topics', 'app': 'models', 'unique_together': (('micropost', 'topic'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Page',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='pages', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(default='', unique=False)),
                ('body_html', fields.TextField(default='', unique=False)),
                ('visibility', fields.CharEnumField(default=Visibility.SHARED, description='SHARED: SHARED\nINTERNAL: INTERNAL', enum_type=Visibility, max_length=10)),
                ('revision', fields.IntField(default=1)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'pages', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A concept page of a project, whose current text mirrors its newest revision.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='PageRevision',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('page', fields.ForeignKeyField('models.Page', source_field='page_id', db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('summary', fields.CharField(default='', max_length=500)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'page_revisions', 'app': 'models', 'unique_together': (('page', 'number'),), 'pk_attr': 'id', 'table_description': 'An append-only snapshot of a page.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ProjectMembership',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='project_memberships', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'project_memberships', 'app': 'models', 'unique_together': (('project', 'user'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ProjectStatusChange',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='status_changes', on_delete=OnDelete.CASCADE)),
                ('from_status', fields.CharEnumField(description='PROPOSED: PROPOSED\nACTIVE: ACTIVE\nON_HOLD: ON_HOLD\nCOMPLETED: COMPLETED\nCANCELLED: CANCELLED', enum_type=ProjectStatus, max_length=20)),
                ('to_status', fields.CharEnumField(description='PROPOSED: PROPOSED\nACTIVE: ACTIVE\nON_HOLD: ON_HOLD\nCOMPLETED: COMPLETED\nCANCELLED: CANCELLED', enum_type=ProjectStatus, max_length=20)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'project_status_changes', 'app': 'models', 'pk_attr': 'id', 'table_description': "One recorded transition of a project's status: from, to, who, why, when."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='RefreshToken',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='refresh_tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('family', fields.CharField(db_index=True, max_length=32)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'refresh_tokens', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One link in a rotating refresh-token family, only a hash of the token is stored.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Watch',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='watches', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='CUSTOMER: CUSTOMER\nPROJECT: PROJECT\nPAGE: PAGE\nTOPIC: TOPIC', enum_type=WatchTargetKind, max_length=10)),
                ('target_key', fields.CharField(max_length=32)),
                ('level', fields.CharEnumField(description='WATCHING: WATCHING\nPARTICIPATING: PARTICIPATING\nMUTED: MUTED', enum_type=WatchLevel, max_length=16)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='watches', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='watches', on_delete=OnDelete.CASCADE)),
                ('page', fields.ForeignKeyField('models.Page', source_field='page_id', null=True, db_constraint=True, to_field='id', related_name='watches', on_delete=OnDelete.CASCADE)),
                ('topic', fields.ForeignKeyField('models.Topic', source_field='topic_id', null=True, db_constraint=True, to_field='id', related_name='watches', on_delete=OnDelete.CASCADE)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'watches', 'app': 'models', 'unique_together': (('user', 'target_key'),), 'pk_attr': 'id', 'table_description': "A user's chosen level of interest in one customer, project, page or topic."},
            bases=['TimestampedModel'],
        ),
    ]
