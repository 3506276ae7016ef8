"""Initial schema (schema version 1).

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 02:41:28.081586
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('environment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uid', sa.String(length=12), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('python_version', sa.String(length=64), nullable=True),
    sa.Column('platform', sa.Text(), nullable=True),
    sa.Column('packages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('host', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hash'),
    sa.UniqueConstraint('uid')
    )
    op.create_table('lineage_instance',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('user_account',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uid', sa.String(length=8), nullable=False),
    sa.Column('handle', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('handle'),
    sa.UniqueConstraint('uid')
    )
    op.create_table('feature',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uid', sa.String(length=12), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('dtype', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name='fk_feature_created_by_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('uid')
    )
    op.create_table('label',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uid', sa.String(length=12), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('is_type', sa.Boolean(), nullable=False),
    sa.Column('type_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name='fk_label_created_by_id'),
    sa.ForeignKeyConstraint(['type_id'], ['label.id'], name='fk_label_type_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('label', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_label_type_id'), ['type_id'], unique=False)

    op.create_table('project',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uid', sa.String(length=12), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name='fk_project_created_by_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('uid')
    )
    op.create_table('storage',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uid', sa.String(length=12), nullable=False),
    sa.Column('root', sa.Text(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name='fk_storage_created_by_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('root'),
    sa.UniqueConstraint('uid')
    )
    op.create_table('transform',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uid', sa.String(length=16), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source_code', sa.Text(), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_latest', sa.Boolean(), nullable=False),
    sa.Column('reference', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name='fk_transform_created_by_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('transform', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transform_key'), ['key'], unique=False)
        batch_op.create_index('uq_transform_key_hash', ['key', 'hash'], unique=True, sqlite_where=None, postgresql_where=None)
        batch_op.create_index('uq_transform_latest_key', ['key'], unique=True, sqlite_where=sa.text('is_latest'), postgresql_where=sa.text('is_latest'))

    op.create_table('project_transform',
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transform_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name='fk_project_transform_project_id'),
    sa.ForeignKeyConstraint(['transform_id'], ['transform.id'], name='fk_project_transform_transform_id'),
    sa.PrimaryKeyConstraint('project_id', 'transform_id')
    )
    with op.batch_alter_table('project_transform', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_transform_transform_id'), ['transform_id'], unique=False)

    op.create_table('run',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uid', sa.String(length=16), nullable=False),
    sa.Column('transform_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entrypoint', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=True),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('cli_args', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('environment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('git', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('initiated_by_run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('external_source', sa.String(length=64), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('host', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name='fk_run_created_by_id'),
    sa.ForeignKeyConstraint(['environment_id'], ['environment.id'], name='fk_run_environment_id'),
    sa.ForeignKeyConstraint(['initiated_by_run_id'], ['run.id'], name='fk_run_initiated_by_run_id'),
    sa.ForeignKeyConstraint(['transform_id'], ['transform.id'], name='fk_run_transform_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_external_id'), ['external_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_run_initiated_by_run_id'), ['initiated_by_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_run_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_run_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_run_transform_id'), ['transform_id'], unique=False)

    op.create_table('artifact',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uid', sa.String(length=16), nullable=False),
    sa.Column('key', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('suffix', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('otype', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.Column('hash_type', sa.String(length=16), nullable=False),
    sa.Column('dedup_hash', sa.String(length=64), nullable=True),
    sa.Column('n_files', sa.Integer(), nullable=True),
    sa.Column('storage_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('object_key', sa.Text(), nullable=True),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_latest', sa.Boolean(), nullable=False),
    sa.Column('storage_ongoing', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name='fk_artifact_created_by_id'),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], name='fk_artifact_run_id'),
    sa.ForeignKeyConstraint(['storage_id'], ['storage.id'], name='fk_artifact_storage_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_hash'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('artifact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_artifact_hash'), ['hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_artifact_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_artifact_run_id'), ['run_id'], unique=False)
        batch_op.create_index('uq_artifact_latest_key', ['key'], unique=True, sqlite_where=sa.text('is_latest'), postgresql_where=sa.text('is_latest'))

    op.create_table('project_run',
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name='fk_project_run_project_id'),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], name='fk_project_run_run_id'),
    sa.PrimaryKeyConstraint('project_id', 'run_id')
    )
    with op.batch_alter_table('project_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_run_run_id'), ['run_id'], unique=False)

    op.create_table('record_change',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('registry', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('record_uid', sa.String(length=16), nullable=False),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.Column('changed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user_account.id'], name='fk_record_change_changed_by_id'),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], name='fk_record_change_run_id'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('record_change', schema=None) as batch_op:
        batch_op.create_index('ix_record_change_record', ['registry', 'record_id'], unique=False, sqlite_where=None, postgresql_where=None)

    op.create_table('run_feature_value',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('feature_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('label_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['feature_id'], ['feature.id'], name='fk_run_feature_value_feature_id'),
    sa.ForeignKeyConstraint(['label_id'], ['label.id'], name='fk_run_feature_value_label_id'),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], name='fk_run_feature_value_run_id'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('run_feature_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_feature_value_feature_id'), ['feature_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_run_feature_value_run_id'), ['run_id'], unique=False)
        batch_op.create_index('uq_run_feature', ['run_id', 'feature_id'], unique=True, sqlite_where=None, postgresql_where=None)

    op.create_table('artifact_label',
    sa.Column('artifact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('label_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['artifact_id'], ['artifact.id'], name='fk_artifact_label_artifact_id'),
    sa.ForeignKeyConstraint(['label_id'], ['label.id'], name='fk_artifact_label_label_id'),
    sa.PrimaryKeyConstraint('artifact_id', 'label_id')
    )
    with op.batch_alter_table('artifact_label', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_artifact_label_label_id'), ['label_id'], unique=False)

    op.create_table('artifact_previous_run',
    sa.Column('artifact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['artifact_id'], ['artifact.id'], name='fk_artifact_previous_run_artifact_id'),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], name='fk_artifact_previous_run_run_id'),
    sa.PrimaryKeyConstraint('artifact_id', 'run_id')
    )
    with op.batch_alter_table('artifact_previous_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_artifact_previous_run_run_id'), ['run_id'], unique=False)

    op.create_table('project_artifact',
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('artifact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['artifact_id'], ['artifact.id'], name='fk_project_artifact_artifact_id'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name='fk_project_artifact_project_id'),
    sa.PrimaryKeyConstraint('project_id', 'artifact_id')
    )
    with op.batch_alter_table('project_artifact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_artifact_artifact_id'), ['artifact_id'], unique=False)

    op.create_table('run_input',
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('artifact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True).with_variant(sa.String(length=40), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['artifact_id'], ['artifact.id'], name='fk_run_input_artifact_id'),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], name='fk_run_input_run_id'),
    sa.PrimaryKeyConstraint('run_id', 'artifact_id')
    )
    with op.batch_alter_table('run_input', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_input_artifact_id'), ['artifact_id'], unique=False)
    op.execute("INSERT INTO lineage_instance (key, value) VALUES ('schema_version', '1')")


def downgrade() -> None:
    with op.batch_alter_table('run_input', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_input_artifact_id'))

    op.drop_table('run_input')
    with op.batch_alter_table('project_artifact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_artifact_artifact_id'))

    op.drop_table('project_artifact')
    with op.batch_alter_table('artifact_previous_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_artifact_previous_run_run_id'))

    op.drop_table('artifact_previous_run')
    with op.batch_alter_table('artifact_label', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_artifact_label_label_id'))

    op.drop_table('artifact_label')
    with op.batch_alter_table('run_feature_value', schema=None) as batch_op:
        batch_op.drop_index('uq_run_feature', sqlite_where=None, postgresql_where=None)
        batch_op.drop_index(batch_op.f('ix_run_feature_value_run_id'))
        batch_op.drop_index(batch_op.f('ix_run_feature_value_feature_id'))

    op.drop_table('run_feature_value')
    with op.batch_alter_table('record_change', schema=None) as batch_op:
        batch_op.drop_index('ix_record_change_record', sqlite_where=None, postgresql_where=None)

    op.drop_table('record_change')
    with op.batch_alter_table('project_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_run_run_id'))

    op.drop_table('project_run')
    with op.batch_alter_table('artifact', schema=None) as batch_op:
        batch_op.drop_index('uq_artifact_latest_key', sqlite_where=sa.text('is_latest'), postgresql_where=sa.text('is_latest'))
        batch_op.drop_index(batch_op.f('ix_artifact_run_id'))
        batch_op.drop_index(batch_op.f('ix_artifact_key'))
        batch_op.drop_index(batch_op.f('ix_artifact_hash'))

    op.drop_table('artifact')
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_transform_id'))
        batch_op.drop_index(batch_op.f('ix_run_status'))
        batch_op.drop_index(batch_op.f('ix_run_started_at'))
        batch_op.drop_index(batch_op.f('ix_run_initiated_by_run_id'))
        batch_op.drop_index(batch_op.f('ix_run_external_id'))

    op.drop_table('run')
    with op.batch_alter_table('project_transform', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_transform_transform_id'))

    op.drop_table('project_transform')
    with op.batch_alter_table('transform', schema=None) as batch_op:
        batch_op.drop_index('uq_transform_latest_key', sqlite_where=sa.text('is_latest'), postgresql_where=sa.text('is_latest'))
        batch_op.drop_index('uq_transform_key_hash', sqlite_where=None, postgresql_where=None)
        batch_op.drop_index(batch_op.f('ix_transform_key'))

    op.drop_table('transform')
    op.drop_table('storage')
    op.drop_table('project')
    with op.batch_alter_table('label', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_type_id'))
        batch_op.drop_index(batch_op.f('ix_label_name'))

    op.drop_table('label')
    op.drop_table('feature')
    op.drop_table('user_account')
    op.drop_table('lineage_instance')
    op.drop_table('environment')
