# The cluster (or an existing one), the log groups, and the capacity providers the pool runs on.

resource "aws_ecs_cluster" "this" {
  count = local.create_cluster ? 1 : 0
  name  = var.name

  setting {
    name  = "containerInsights"
    value = var.container_insights ? "enabled" : "disabled"
  }

  tags = local.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  count              = local.manage_cps ? 1 : 0
  cluster_name       = local.cluster_name
  capacity_providers = local.ec2 ? [aws_ecs_capacity_provider.pool[0].name, "FARGATE"] : ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_cloudwatch_log_group" "reconciler" {
  name              = local.log_groups.reconciler
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_cloudwatch_log_group" "gateway" {
  name              = local.log_groups.gateway
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_cloudwatch_log_group" "pool" {
  name              = local.log_groups.pool
  retention_in_days = var.log_retention_days
  tags              = local.tags
}
