from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.alert import AlertChannel, AlertEventType, AlertSeverity, DeliveryStatus
from models.integration import OAuthProvider
from models.storage import StorageCategory
from models.team import TeamRole, TeamType
from models.user import Privacy
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='BetaFeature',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('name', fields.CharField(max_length=128)),
                ('description', fields.TextField(unique=False)),
                ('position', fields.IntField(default=0, description='Order in the catalog.')),
            ],
            options={'table': 'beta_feature', 'app': 'models', 'pk_attr': 'key', 'table_description': 'An entry of the beta-feature catalog, seeded by `python cli.py migrate`.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Entity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=64)),
                ('name_key', fields.CharField(unique=True, description='`name` lower-cased: the unique index makes the namespace case-insensitive,', max_length=64)),
                ('is_team', fields.BooleanField(default=False)),
                ('deleted_at', fields.DatetimeField(null=True, description='Set when the account was deleted: the name stays taken, and tokens issued', auto_now=False, auto_now_add=False)),
                ('storage_limit_bytes', fields.BigIntField(null=True, description='The storage quota, null means the default plan.')),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'entity', 'app': 'models', 'pk_attr': 'id', 'table_description': "A name that owns projects: a user's own, or a team's. One namespace for both."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Organization',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=128)),
                ('name_key', fields.CharField(unique=True, description='`name` lower-cased: unique, so a name is reused rather than duplicated,', max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'organization', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A company or school that teams belong to.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StorageCategoryCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entity', fields.ForeignKeyField('models.Entity', source_field='entity_id', db_constraint=True, to_field='id', related_name='category_counters', on_delete=OnDelete.CASCADE)),
                ('category', fields.CharEnumField(description='RUN_FILES: RUN_FILES\nARTIFACTS: ARTIFACTS\nMEDIA: MEDIA', enum_type=StorageCategory, max_length=16)),
                ('bytes', fields.BigIntField(default=0)),
            ],
            options={'table': 'storage_category_counter', 'app': 'models', 'unique_together': (('entity', 'category'),), 'pk_attr': 'id', 'table_description': 'Bytes stored by an entity in one category, kept with the file rows.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StorageProjectCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entity', fields.ForeignKeyField('models.Entity', source_field='entity_id', db_constraint=True, to_field='id', related_name='project_counters', on_delete=OnDelete.CASCADE)),
                ('project_name', fields.CharField(max_length=128)),
                ('bytes', fields.BigIntField(default=0)),
            ],
            options={'table': 'storage_project_counter', 'app': 'models', 'unique_together': (('entity', 'project_name'),), 'indexes': [Index(fields=['entity_id', 'bytes'])], 'pk_attr': 'id', 'table_description': 'Bytes stored by an entity in one project, kept with the file rows.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StoredFile',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entity', fields.ForeignKeyField('models.Entity', source_field='entity_id', db_constraint=True, to_field='id', related_name='stored_files', on_delete=OnDelete.CASCADE)),
                ('project_name', fields.CharField(max_length=128)),
                ('path', fields.CharField(max_length=1024)),
                ('path_hash', fields.CharField(description='SHA-256 of `path`, hex. The unique key uses it because PostgreSQL cannot', max_length=64)),
                ('category', fields.CharEnumField(description='RUN_FILES: RUN_FILES\nARTIFACTS: ARTIFACTS\nMEDIA: MEDIA', enum_type=StorageCategory, max_length=16)),
                ('size_bytes', fields.BigIntField()),
            ],
            options={'table': 'stored_file', 'app': 'models', 'unique_together': (('entity', 'project_name', 'path_hash'),), 'pk_attr': 'id', 'table_description': "A file a run tracker stored for an entity's project."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Team',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entity', fields.OneToOneField('models.Entity', source_field='entity_id', db_constraint=True, to_field='id', related_name='team', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=64)),
                ('type', fields.CharEnumField(description='WORK: WORK\nACADEMIC: ACADEMIC', enum_type=TeamType, max_length=16)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', null=True, db_constraint=True, to_field='id', related_name='teams', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'team', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A team entity, its name (on its entity) never changes.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entity', fields.OneToOneField('models.Entity', source_field='entity_id', db_constraint=True, to_field='id', related_name='user', on_delete=OnDelete.RESTRICT)),
                ('username', fields.CharField(max_length=64)),
                ('email', fields.CharField(default='', max_length=320)),
                ('name', fields.CharField(default='', max_length=128)),
                ('institution', fields.CharField(null=True, max_length=128)),
                ('bio', fields.TextField(null=True, unique=False)),
                ('location', fields.CharField(null=True, max_length=128)),
                ('website_url', fields.CharField(null=True, max_length=2048)),
                ('photo_file', fields.CharField(null=True, description='File name under MEDIA_ROOT: the content hash of the re-encoded photo.', max_length=128)),
                ('photo_bytes', fields.BigIntField(default=0, description="Bytes of the stored photo, counted as MEDIA of the user's entity.")),
                ('admin', fields.BooleanField(default=False)),
                ('hide_teams_from_public', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('default_entity', fields.ForeignKeyField('models.Entity', source_field='default_entity_id', description='Project defaults: where new projects go, their privacy, code saving.', db_constraint=True, to_field='id', related_name='defaulting_users', on_delete=OnDelete.RESTRICT)),
                ('default_privacy', fields.CharEnumField(default=Privacy.PRIVATE, description='PUBLIC: PUBLIC\nPRIVATE: PRIVATE\nOPEN: OPEN', enum_type=Privacy, max_length=16)),
                ('code_saving_enabled', fields.BooleanField(default=False)),
            ],
            options={'table': 'user', 'app': 'models', 'pk_attr': 'id', 'table_description': "An account, created on first sign-in from its token's claims."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlertEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='alert_events', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='RUN_FINISHED: RUN_FINISHED\nRUN_CRASHED: RUN_CRASHED\nSCRIPTABLE: SCRIPTABLE\nTEST: TEST', enum_type=AlertEventType, max_length=16)),
                ('title', fields.CharField(max_length=64)),
                ('text', fields.TextField(unique=False)),
                ('severity', fields.CharEnumField(default=AlertSeverity.INFO, description='INFO: INFO\nWARN: WARN\nERROR: ERROR', enum_type=AlertSeverity, max_length=8)),
                ('entity_name', fields.CharField(max_length=64)),
                ('project_name', fields.CharField(max_length=128)),
                ('run_name', fields.CharField(max_length=128)),
                ('wait_duration_ms', fields.BigIntField(null=True, description="The caller's waitDuration in milliseconds, if it gave one.")),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'alert_event', 'app': 'models', 'indexes': [Index(fields=['user_id', 'entity_name', 'project_name', 'run_name', 'title'])], 'pk_attr': 'id', 'table_description': 'An alert raised for a user: a run event, a wandb.alert() or a test.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlertDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('models.AlertEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', description='Denormalised from the event, so deleting an account finds its rows at once.', db_constraint=True, to_field='id', related_name='alert_deliveries', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='EMAIL: EMAIL\nSLACK: SLACK', enum_type=AlertChannel, max_length=8)),
                ('status', fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nDELIVERED: DELIVERED\nFAILED: FAILED\nSUPPRESSED: SUPPRESSED', enum_type=DeliveryStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_attempt_at', fields.DatetimeField(description='When the dispatcher may next try it.', auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, description="A dispatcher's claim runs until here, a claim of a process that died expires.", auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'alert_delivery', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'The outbox: one row per channel an event is sent to, claimed by one dispatcher.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlertSubscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='alert_subscriptions', on_delete=OnDelete.CASCADE)),
                ('event', fields.CharEnumField(description='RUN_FINISHED: RUN_FINISHED\nRUN_CRASHED: RUN_CRASHED\nSCRIPTABLE: SCRIPTABLE\nTEST: TEST', enum_type=AlertEventType, max_length=16)),
                ('channel', fields.CharEnumField(description='EMAIL: EMAIL\nSLACK: SLACK', enum_type=AlertChannel, max_length=8)),
                ('enabled', fields.BooleanField(default=False)),
            ],
            options={'table': 'alert_subscription', 'app': 'models', 'unique_together': (('user', 'event', 'channel'),), 'pk_attr': 'id', 'table_description': 'Whether one kind of event reaches the user by one channel.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=128)),
                ('description', fields.CharField(null=True, max_length=1024)),
                ('prefix', fields.CharField(description='The first characters of the key, shown so a user can recognise it.', max_length=16)),
                ('key_hash', fields.CharField(unique=True, description='SHA-256 of the whole key, hex, the key has 238 bits of entropy, so an', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A key for run trackers, only its SHA-256 is stored.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GithubIntegration',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='github_integration', on_delete=OnDelete.CASCADE)),
                ('login', fields.CharField(max_length=128)),
                ('avatar_url', fields.CharField(null=True, max_length=2048)),
                ('organizations', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('scopes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('token_sealed', fields.TextField(description='The access token, encrypted with SECRET_KEY, never returned.', unique=False)),
                ('connected_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'github_integration', 'app': 'models', 'pk_attr': 'id', 'table_description': "A user's personal GitHub connection."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OAuthState',
            fields=[
                ('nonce', fields.CharField(primary_key=True, unique=True, db_index=True, description='Random id carried, signed, inside the `state` parameter.', max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='oauth_states', on_delete=OnDelete.CASCADE)),
                ('provider', fields.CharEnumField(description='SLACK: SLACK\nGITHUB: GITHUB', enum_type=OAuthProvider, max_length=8)),
                ('redirect_uri', fields.CharField(max_length=2048)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oauth_state', 'app': 'models', 'pk_attr': 'nonce', 'table_description': 'A started OAuth flow, the `state` the provider returns names it, and it is used once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlackIntegration',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='slack_integration', on_delete=OnDelete.CASCADE)),
                ('team_name', fields.CharField(max_length=256)),
                ('channel_name', fields.CharField(max_length=256)),
                ('webhook_url_sealed', fields.TextField(description='The webhook URL, encrypted with SECRET_KEY: whoever holds it can post.', unique=False)),
                ('connected_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'slack_integration', 'app': 'models', 'pk_attr': 'id', 'table_description': "A user's Slack connection: the incoming webhook Slack granted."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TeamMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('team', fields.ForeignKeyField('models.Team', source_field='team_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(default=TeamRole.MEMBER, description='ADMIN: ADMIN\nMEMBER: MEMBER', enum_type=TeamRole, max_length=16)),
                ('joined_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'team_member', 'app': 'models', 'unique_together': (('team', 'user'),), 'indexes': [Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': "A user's membership of a team, with its role."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserBetaFeature',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='beta_features', on_delete=OnDelete.CASCADE)),
                ('feature', fields.ForeignKeyField('models.BetaFeature', source_field='feature_id', db_constraint=True, to_field='key', related_name='toggles', on_delete=OnDelete.CASCADE)),
                ('enabled', fields.BooleanField(default=False)),
            ],
            options={'table': 'user_beta_feature', 'app': 'models', 'unique_together': (('user', 'feature'),), 'pk_attr': 'id', 'table_description': "A user's toggle of one beta feature, no row means off."},
            bases=['Model'],
        ),
    ]
