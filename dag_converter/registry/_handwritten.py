"""Hand-written registry data: EmptyOperator and the table of legacy class paths.

Every legacy name below existed in a released Airflow or Amazon provider; sources:

- Airflow 2.x deprecation maps (``__deprecated_classes``) in ``airflow/operators/__init__.py``,
  ``airflow/sensors/__init__.py`` and ``airflow/contrib/operators/__init__.py``;
- the Airflow 2.0 Amazon backport README, "Moved operators/transfers/sensors" tables (provider
  1.x module names and the Airflow 1.10 ``airflow.contrib`` paths they replaced);
- provider 2.x-4.x modules seen imported in published DAGs and provider tests
  (``operators.aws_lambda``, ``operators.emr_containers``, ``operators.dms_*``,
  ``operators.s3_bucket_tagging``, ``operators.glue_crawler.AwsGlueCrawlerOperator``,
  ``sensors.dms_task``, ``sensors.redshift.AwsRedshiftClusterSensor``).

Only pure renames are listed: same constructor arguments under a new path. Classes that were
replaced by something with other arguments are in ``REMOVED`` with a hint instead.
"""

from __future__ import annotations

from typing import Final

EMPTY_OPERATOR_PATH: Final = "airflow.providers.standard.operators.empty.EmptyOperator"

_AWS: Final = "airflow.providers.amazon.aws"
_OPS: Final = f"{_AWS}.operators"
_SENSORS: Final = f"{_AWS}.sensors"
_TRANSFERS: Final = f"{_AWS}.transfers"
_STD: Final = "airflow.providers.standard.operators"


def _same_names(old_module: str, new_module: str, *names: str) -> dict[str, str]:
    return {f"{old_module}.{n}": f"{new_module}.{n}" for n in names}


#: legacy class path -> canonical class path (Airflow 3 / provider 9.x)
LEGACY: Final[dict[str, str]] = {
    # EmptyOperator: Airflow 2 core names, DummyOperator before 2.3.
    "airflow.operators.empty.EmptyOperator": EMPTY_OPERATOR_PATH,
    "airflow.operators.dummy.DummyOperator": EMPTY_OPERATOR_PATH,
    "airflow.operators.dummy.EmptyOperator": EMPTY_OPERATOR_PATH,
    "airflow.operators.dummy_operator.DummyOperator": EMPTY_OPERATOR_PATH,
    "airflow.operators.dummy_operator.EmptyOperator": EMPTY_OPERATOR_PATH,
    # Standard operators moved to apache-airflow-providers-standard in Airflow 3. They are not
    # Amazon classes; listing them lets the validator name what it refuses by its real path.
    **_same_names("airflow.operators.bash", f"{_STD}.bash", "BashOperator"),
    **_same_names("airflow.operators.bash_operator", f"{_STD}.bash", "BashOperator"),
    **_same_names(
        "airflow.operators.python",
        f"{_STD}.python",
        "PythonOperator",
        "BranchPythonOperator",
        "ShortCircuitOperator",
        "PythonVirtualenvOperator",
        "ExternalPythonOperator",
    ),
    **_same_names(
        "airflow.operators.python_operator",
        f"{_STD}.python",
        "PythonOperator",
        "BranchPythonOperator",
        "ShortCircuitOperator",
        "PythonVirtualenvOperator",
    ),
    **_same_names("airflow.operators.latest_only", f"{_STD}.latest_only", "LatestOnlyOperator"),
    **_same_names("airflow.operators.latest_only_operator", f"{_STD}.latest_only", "LatestOnlyOperator"),
    **_same_names("airflow.operators.trigger_dagrun", f"{_STD}.trigger_dagrun", "TriggerDagRunOperator"),
    **_same_names("airflow.operators.dagrun_operator", f"{_STD}.trigger_dagrun", "TriggerDagRunOperator"),
    # Amazon: Airflow 1.10 contrib and core modules.
    "airflow.contrib.operators.aws_athena_operator.AWSAthenaOperator": f"{_OPS}.athena.AthenaOperator",
    "airflow.contrib.operators.aws_sqs_publish_operator.SQSPublishOperator": f"{_OPS}.sqs.SqsPublishOperator",
    "airflow.contrib.operators.aws_sqs_publish_operator.SqsPublishOperator": f"{_OPS}.sqs.SqsPublishOperator",
    "airflow.contrib.operators.awsbatch_operator.AWSBatchOperator": f"{_OPS}.batch.BatchOperator",
    "airflow.contrib.operators.awsbatch_operator.BatchOperator": f"{_OPS}.batch.BatchOperator",
    "airflow.contrib.operators.ecs_operator.ECSOperator": f"{_OPS}.ecs.EcsRunTaskOperator",
    "airflow.contrib.operators.ecs_operator.EcsOperator": f"{_OPS}.ecs.EcsRunTaskOperator",
    "airflow.contrib.operators.ecs_operator.EcsRunTaskOperator": f"{_OPS}.ecs.EcsRunTaskOperator",
    "airflow.contrib.operators.emr_add_steps_operator.EmrAddStepsOperator": f"{_OPS}.emr.EmrAddStepsOperator",
    "airflow.contrib.operators.emr_create_job_flow_operator.EmrCreateJobFlowOperator": (
        f"{_OPS}.emr.EmrCreateJobFlowOperator"
    ),
    "airflow.contrib.operators.emr_terminate_job_flow_operator.EmrTerminateJobFlowOperator": (
        f"{_OPS}.emr.EmrTerminateJobFlowOperator"
    ),
    "airflow.contrib.operators.s3_copy_object_operator.S3CopyObjectOperator": f"{_OPS}.s3.S3CopyObjectOperator",
    "airflow.contrib.operators.s3_delete_objects_operator.S3DeleteObjectsOperator": (
        f"{_OPS}.s3.S3DeleteObjectsOperator"
    ),
    "airflow.contrib.operators.s3_list_operator.S3ListOperator": f"{_OPS}.s3.S3ListOperator",
    "airflow.contrib.operators.sns_publish_operator.SnsPublishOperator": f"{_OPS}.sns.SnsPublishOperator",
    **{
        f"airflow.contrib.operators.sagemaker_{mod}_operator.{name}": f"{_OPS}.sagemaker.{name}"
        for mod, name in (
            ("base", "SageMakerBaseOperator"),
            ("endpoint", "SageMakerEndpointOperator"),
            ("endpoint_config", "SageMakerEndpointConfigOperator"),
            ("model", "SageMakerModelOperator"),
            ("training", "SageMakerTrainingOperator"),
            ("transform", "SageMakerTransformOperator"),
            ("tuning", "SageMakerTuningOperator"),
        )
    },
    "airflow.contrib.operators.dynamodb_to_s3.DynamoDBToS3Operator": (
        f"{_TRANSFERS}.dynamodb_to_s3.DynamoDBToS3Operator"
    ),
    "airflow.contrib.operators.gcs_to_s3.GCSToS3Operator": f"{_TRANSFERS}.gcs_to_s3.GCSToS3Operator",
    "airflow.contrib.operators.gcs_to_s3.GoogleCloudStorageToS3Operator": f"{_TRANSFERS}.gcs_to_s3.GCSToS3Operator",
    "airflow.contrib.operators.hive_to_dynamodb.HiveToDynamoDBOperator": (
        f"{_TRANSFERS}.hive_to_dynamodb.HiveToDynamoDBOperator"
    ),
    "airflow.contrib.operators.imap_attachment_to_s3_operator.ImapAttachmentToS3Operator": (
        f"{_TRANSFERS}.imap_attachment_to_s3.ImapAttachmentToS3Operator"
    ),
    "airflow.contrib.operators.mongo_to_s3.MongoToS3Operator": f"{_TRANSFERS}.mongo_to_s3.MongoToS3Operator",
    "airflow.contrib.operators.s3_to_sftp_operator.S3ToSFTPOperator": f"{_TRANSFERS}.s3_to_sftp.S3ToSFTPOperator",
    "airflow.contrib.operators.sftp_to_s3_operator.SFTPToS3Operator": f"{_TRANSFERS}.sftp_to_s3.SFTPToS3Operator",
    "airflow.operators.gcs_to_s3.GCSToS3Operator": f"{_TRANSFERS}.gcs_to_s3.GCSToS3Operator",
    "airflow.operators.google_api_to_s3_transfer.GoogleApiToS3Operator": (
        f"{_TRANSFERS}.google_api_to_s3.GoogleApiToS3Operator"
    ),
    "airflow.operators.google_api_to_s3_transfer.GoogleApiToS3Transfer": (
        f"{_TRANSFERS}.google_api_to_s3.GoogleApiToS3Operator"
    ),
    "airflow.operators.redshift_to_s3_operator.RedshiftToS3Operator": (
        f"{_TRANSFERS}.redshift_to_s3.RedshiftToS3Operator"
    ),
    "airflow.operators.redshift_to_s3_operator.RedshiftToS3Transfer": (
        f"{_TRANSFERS}.redshift_to_s3.RedshiftToS3Operator"
    ),
    "airflow.operators.s3_to_redshift_operator.S3ToRedshiftOperator": (
        f"{_TRANSFERS}.s3_to_redshift.S3ToRedshiftOperator"
    ),
    "airflow.operators.s3_to_redshift_operator.S3ToRedshiftTransfer": (
        f"{_TRANSFERS}.s3_to_redshift.S3ToRedshiftOperator"
    ),
    "airflow.operators.s3_file_transform_operator.S3FileTransformOperator": f"{_OPS}.s3.S3FileTransformOperator",
    "airflow.contrib.sensors.aws_athena_sensor.AthenaSensor": f"{_SENSORS}.athena.AthenaSensor",
    "airflow.contrib.sensors.emr_base_sensor.EmrBaseSensor": f"{_SENSORS}.emr.EmrBaseSensor",
    "airflow.contrib.sensors.emr_job_flow_sensor.EmrJobFlowSensor": f"{_SENSORS}.emr.EmrJobFlowSensor",
    "airflow.contrib.sensors.emr_step_sensor.EmrStepSensor": f"{_SENSORS}.emr.EmrStepSensor",
    "airflow.contrib.sensors.aws_glue_catalog_partition_sensor.AwsGlueCatalogPartitionSensor": (
        f"{_SENSORS}.glue_catalog_partition.GlueCatalogPartitionSensor"
    ),
    "airflow.contrib.sensors.aws_sqs_sensor.SQSSensor": f"{_SENSORS}.sqs.SqsSensor",
    **{
        f"airflow.contrib.sensors.sagemaker_{mod}_sensor.{name}": f"{_SENSORS}.sagemaker.{name}"
        for mod, name in (
            ("base", "SageMakerBaseSensor"),
            ("endpoint", "SageMakerEndpointSensor"),
            ("transform", "SageMakerTransformSensor"),
            ("tuning", "SageMakerTuningSensor"),
        )
    },
    "airflow.sensors.s3_key_sensor.S3KeySensor": f"{_SENSORS}.s3.S3KeySensor",
    # Amazon provider 1.x-4.x: renamed classes in current modules.
    f"{_OPS}.athena.AWSAthenaOperator": f"{_OPS}.athena.AthenaOperator",
    f"{_OPS}.batch.AwsBatchOperator": f"{_OPS}.batch.BatchOperator",
    f"{_OPS}.datasync.AWSDataSyncOperator": f"{_OPS}.datasync.DataSyncOperator",
    f"{_OPS}.ecs.ECSOperator": f"{_OPS}.ecs.EcsRunTaskOperator",
    f"{_OPS}.glue.AwsGlueJobOperator": f"{_OPS}.glue.GlueJobOperator",
    f"{_OPS}.glue_crawler.AwsGlueCrawlerOperator": f"{_OPS}.glue_crawler.GlueCrawlerOperator",
    f"{_OPS}.sqs.SQSPublishOperator": f"{_OPS}.sqs.SqsPublishOperator",
    f"{_SENSORS}.glue.AwsGlueJobSensor": f"{_SENSORS}.glue.GlueJobSensor",
    f"{_SENSORS}.glue_catalog_partition.AwsGlueCatalogPartitionSensor": (
        f"{_SENSORS}.glue_catalog_partition.GlueCatalogPartitionSensor"
    ),
    f"{_SENSORS}.sqs.SQSSensor": f"{_SENSORS}.sqs.SqsSensor",
    # Amazon provider 1.x-4.x: one module per operator, merged into one module per service.
    f"{_OPS}.aws_lambda.AwsLambdaInvokeFunctionOperator": f"{_OPS}.lambda_function.LambdaInvokeFunctionOperator",
    **_same_names(f"{_OPS}.dms_create_task", f"{_OPS}.dms", "DmsCreateTaskOperator"),
    **_same_names(f"{_OPS}.dms_delete_task", f"{_OPS}.dms", "DmsDeleteTaskOperator"),
    **_same_names(f"{_OPS}.dms_start_task", f"{_OPS}.dms", "DmsStartTaskOperator"),
    **_same_names(f"{_OPS}.ec2_start_instance", f"{_OPS}.ec2", "EC2StartInstanceOperator"),
    **_same_names(f"{_OPS}.ec2_stop_instance", f"{_OPS}.ec2", "EC2StopInstanceOperator"),
    **_same_names(f"{_OPS}.emr_add_steps", f"{_OPS}.emr", "EmrAddStepsOperator"),
    **_same_names(f"{_OPS}.emr_create_job_flow", f"{_OPS}.emr", "EmrCreateJobFlowOperator"),
    **_same_names(f"{_OPS}.emr_modify_cluster", f"{_OPS}.emr", "EmrModifyClusterOperator"),
    **_same_names(f"{_OPS}.emr_terminate_job_flow", f"{_OPS}.emr", "EmrTerminateJobFlowOperator"),
    f"{_OPS}.emr_containers.EMRContainerOperator": f"{_OPS}.emr.EmrContainerOperator",
    **_same_names(f"{_OPS}.s3_bucket", f"{_OPS}.s3", "S3CreateBucketOperator", "S3DeleteBucketOperator"),
    **_same_names(
        f"{_OPS}.s3_bucket_tagging",
        f"{_OPS}.s3",
        "S3DeleteBucketTaggingOperator",
        "S3GetBucketTaggingOperator",
        "S3PutBucketTaggingOperator",
    ),
    **_same_names(f"{_OPS}.s3_copy_object", f"{_OPS}.s3", "S3CopyObjectOperator"),
    **_same_names(f"{_OPS}.s3_delete_objects", f"{_OPS}.s3", "S3DeleteObjectsOperator"),
    **_same_names(f"{_OPS}.s3_file_transform", f"{_OPS}.s3", "S3FileTransformOperator"),
    **_same_names(f"{_OPS}.s3_list", f"{_OPS}.s3", "S3ListOperator"),
    **{
        f"{_OPS}.sagemaker_{mod}.{name}": f"{_OPS}.sagemaker.{name}"
        for mod, name in (
            ("base", "SageMakerBaseOperator"),
            ("endpoint", "SageMakerEndpointOperator"),
            ("endpoint_config", "SageMakerEndpointConfigOperator"),
            ("model", "SageMakerModelOperator"),
            ("processing", "SageMakerProcessingOperator"),
            ("training", "SageMakerTrainingOperator"),
            ("transform", "SageMakerTransformOperator"),
            ("tuning", "SageMakerTuningOperator"),
        )
    },
    **_same_names(
        f"{_OPS}.step_function_get_execution_output",
        f"{_OPS}.step_function",
        "StepFunctionGetExecutionOutputOperator",
    ),
    **_same_names(
        f"{_OPS}.step_function_start_execution", f"{_OPS}.step_function", "StepFunctionStartExecutionOperator"
    ),
    **_same_names(f"{_SENSORS}.dms_task", f"{_SENSORS}.dms", "DmsTaskCompletedSensor"),
    **_same_names(f"{_SENSORS}.ec2_instance_state", f"{_SENSORS}.ec2", "EC2InstanceStateSensor"),
    **_same_names(f"{_SENSORS}.emr_base", f"{_SENSORS}.emr", "EmrBaseSensor"),
    **_same_names(f"{_SENSORS}.emr_job_flow", f"{_SENSORS}.emr", "EmrJobFlowSensor"),
    **_same_names(f"{_SENSORS}.emr_step", f"{_SENSORS}.emr", "EmrStepSensor"),
    f"{_SENSORS}.emr_containers.EMRContainerSensor": f"{_SENSORS}.emr.EmrContainerSensor",
    f"{_SENSORS}.redshift.AwsRedshiftClusterSensor": f"{_SENSORS}.redshift_cluster.RedshiftClusterSensor",
    **_same_names(f"{_SENSORS}.s3_key", f"{_SENSORS}.s3", "S3KeySensor"),
    **_same_names(f"{_SENSORS}.s3_keys_unchanged", f"{_SENSORS}.s3", "S3KeysUnchangedSensor"),
    **{
        f"{_SENSORS}.sagemaker_{mod}.{name}": f"{_SENSORS}.sagemaker.{name}"
        for mod, name in (
            ("base", "SageMakerBaseSensor"),
            ("endpoint", "SageMakerEndpointSensor"),
            ("training", "SageMakerTrainingSensor"),
            ("transform", "SageMakerTransformSensor"),
            ("tuning", "SageMakerTuningSensor"),
        )
    },
    **_same_names(f"{_SENSORS}.step_function_execution", f"{_SENSORS}.step_function", "StepFunctionExecutionSensor"),
}

#: Removed classes whose replacement takes other arguments: old path -> hint for the user.
REMOVED: Final[dict[str, str]] = {
    f"{_OPS}.redshift.RedshiftSQLOperator": (
        "replaced by airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator "
        "(conn_id instead of redshift_conn_id), or use RedshiftDataOperator"
    ),
    f"{_OPS}.redshift_sql.RedshiftSQLOperator": (
        "replaced by airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator "
        "(conn_id instead of redshift_conn_id), or use RedshiftDataOperator"
    ),
    f"{_SENSORS}.s3_prefix.S3PrefixSensor": "replaced by S3KeySensor (bucket_key with a wildcard)",
    "airflow.sensors.s3_prefix_sensor.S3PrefixSensor": "replaced by S3KeySensor (bucket_key with a wildcard)",
}
