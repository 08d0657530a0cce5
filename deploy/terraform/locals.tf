# Names every other file agrees on: the pool's task-definition family, its container, the
# ARN patterns the reconciler's policy is scoped to, and the environment of each process.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  pool      = coalesce(var.pool, var.name)
  region    = coalesce(var.region, data.aws_region.current.name)
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  ec2       = var.capacity == "ec2"

  create_cluster = var.existing_cluster_arn == null
  cluster_arn    = local.create_cluster ? aws_ecs_cluster.this[0].arn : var.existing_cluster_arn
  cluster_name   = local.create_cluster ? aws_ecs_cluster.this[0].name : element(split("/", var.existing_cluster_arn), 1)
  manage_cps     = coalesce(var.manage_cluster_capacity_providers, local.create_cluster)

  # The pool's task definition: the reconciler may run this family and nothing else.
  pool_family         = "${var.name}-pool"
  pool_container_name = "agent"
  workspace_mount     = "/mnt/efs"
  workspace_root      = "/workspaces/${var.environment}"

  # RunTask tags every pool task with these, beside startedBy = pool.
  pool_tags = { "warmpool:pool" = local.pool }

  asg_name          = "${var.name}-pool"
  capacity_provider = "${var.name}-pool"

  # ARN patterns of what the reconciler acts on (task ARNs carry the cluster name).
  pool_task_definition_arns       = "arn:${local.partition}:ecs:${local.region}:${local.account}:task-definition/${local.pool_family}:*"
  cluster_task_arns               = "arn:${local.partition}:ecs:${local.region}:${local.account}:task/${local.cluster_name}/*"
  cluster_container_instance_arns = "arn:${local.partition}:ecs:${local.region}:${local.account}:container-instance/${local.cluster_name}/*"
  asg_arn_pattern                 = "arn:${local.partition}:autoscaling:${local.region}:${local.account}:autoScalingGroup:*:autoScalingGroupName/${local.asg_name}"

  create_redis     = var.existing_redis_url_secret_arn == null
  redis_secret_arn = local.create_redis ? (local.redis_rbac ? aws_secretsmanager_secret.redis_role_url["ctl"].arn : aws_secretsmanager_secret.redis_url[0].arn) : var.existing_redis_url_secret_arn

  create_gateway_tokens     = var.gateway_tokens_secret_arn == null
  gateway_tokens_secret_arn = local.create_gateway_tokens ? aws_secretsmanager_secret.gateway_tokens[0].arn : var.gateway_tokens_secret_arn

  log_groups = {
    reconciler = "/ecs/${var.name}/reconciler"
    gateway    = "/ecs/${var.name}/gateway"
    pool       = "/ecs/${var.name}/pool"
  }

  # Capacity the reconciler launches pool tasks on (a flag of `warmpool reconciler`).
  launch_type                = local.ec2 ? "" : "FARGATE"
  capacity_provider_for_pool = local.ec2 ? local.capacity_provider : ""

  tags = merge({ "warmpool:name" = var.name, "warmpool:environment" = var.environment }, var.tags)
}
