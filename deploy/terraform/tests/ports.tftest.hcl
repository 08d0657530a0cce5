# Every port the processes listen on is the one their task definitions map, their environment
# tells them, their security groups open and the load balancer targets: one variable each
# (gateway_port, metrics_port, bridge_port), wired through. Planned and applied against a mock
# AWS provider: no account, no network. test/deploy/ports.test.ts holds the variables' defaults
# to the processes' flag defaults and to deploy/prometheus/prometheus.yml.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1", region = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = { arn = "arn:aws:iam::123456789012:instance-profile/mock" }
  }
  mock_resource "aws_lb" {
    defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/mock/0123456789abcdef" }
  }
  mock_resource "aws_lb_target_group" {
    defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mock/0123456789abcdef" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mock-AbCdEf" }
  }
  mock_resource "aws_ecs_cluster" {
    defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/mock" }
  }
  mock_resource "aws_ecs_task_definition" {
    defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/mock:1" }
  }
  mock_resource "aws_autoscaling_group" {
    defaults = { arn = "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0:autoScalingGroupName/mock" }
  }
  mock_resource "aws_efs_file_system" {
    defaults = { arn = "arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123456789abcdef0" }
  }
  mock_resource "aws_efs_access_point" {
    defaults = { arn = "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/mock" }
  }
  mock_resource "aws_ecs_capacity_provider" {
    defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:capacity-provider/mock" }
  }
  mock_resource "aws_launch_template" {
    defaults = { arn = "arn:aws:ec2:eu-west-1:123456789012:launch-template/lt-0123456789abcdef0", id = "lt-0123456789abcdef0" }
  }
  mock_resource "aws_elasticache_replication_group" {
    defaults = { arn = "arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:mock" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  name                  = "wp-test"
  environment           = "test"
  vpc_id                = "vpc-0123456789abcdef0"
  private_subnet_ids    = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  public_subnet_ids     = ["subnet-0000000000000000c", "subnet-0000000000000000d"]
  control_image         = "registry.example/warmpool@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  pool_image            = "registry.example/agent@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  agent_command         = ["agent", "headless"]
  redis_auth_token      = "0123456789abcdef0123456789abcdef"
  gateway_tokens        = ["tok-0123456789abcdef0123456789abcdef"]
  metrics_scraper_cidrs = ["10.20.0.0/16"]
  session_client_cidrs  = ["10.30.0.0/16"]
}

run "ports_agree" {
  command = apply

  assert {
    condition     = toset([for m in jsondecode(aws_ecs_task_definition.gateway.container_definitions)[0].portMappings : m.containerPort]) == toset([var.gateway_port, var.metrics_port])
    error_message = "the gateway container must map its API port (gateway_port) and its metrics port (metrics_port), nothing else"
  }
  assert {
    condition     = [for m in jsondecode(aws_ecs_task_definition.reconciler.container_definitions)[0].portMappings : m.containerPort] == [var.metrics_port]
    error_message = "the reconciler container must map metrics_port"
  }
  assert {
    condition     = [for m in jsondecode(aws_ecs_task_definition.pool.container_definitions)[0].portMappings : m.containerPort] == [var.bridge_port]
    error_message = "the pool container must map bridge_port"
  }
  # What each process is told to listen on (every flag has a WARMPOOL_* variable).
  assert {
    condition = {
      for e in jsondecode(aws_ecs_task_definition.gateway.container_definitions)[0].environment : e.name => e.value
      if contains(["WARMPOOL_PORT", "WARMPOOL_METRICS_PORT"], e.name)
    } == { WARMPOOL_PORT = tostring(var.gateway_port), WARMPOOL_METRICS_PORT = tostring(var.metrics_port) }
    error_message = "the gateway must be told to listen on gateway_port and serve metrics on metrics_port"
  }
  assert {
    condition = [
      for e in jsondecode(aws_ecs_task_definition.reconciler.container_definitions)[0].environment : e.value
      if e.name == "WARMPOOL_METRICS_PORT"
    ] == [tostring(var.metrics_port)]
    error_message = "the reconciler must be told to serve metrics on metrics_port"
  }
  assert {
    condition = [
      for e in jsondecode(aws_ecs_task_definition.pool.container_definitions)[0].environment : e.value
      if e.name == "WARMPOOL_SESSION_PORT"
    ] == [tostring(var.bridge_port)]
    error_message = "the bridge must be told to serve sessions on bridge_port"
  }
  # Security groups: the scraper reaches metrics_port on the control tasks (reconciler and
  # gateway share the control group), the load balancer reaches gateway_port, clients bridge_port.
  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.metrics : r.from_port == var.metrics_port && r.to_port == var.metrics_port && r.security_group_id == aws_security_group.control.id]) && length(aws_vpc_security_group_ingress_rule.metrics) == 1
    error_message = "the metrics ingress must open exactly metrics_port on the control security group"
  }
  assert {
    condition     = aws_ecs_service.gateway.network_configuration[0].security_groups == toset([aws_security_group.control.id]) && aws_ecs_service.reconciler.network_configuration[0].security_groups == toset([aws_security_group.control.id])
    error_message = "reconciler and gateway tasks must be in the control security group the metrics rule opens"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.gateway_from_lb.from_port == var.gateway_port && aws_vpc_security_group_ingress_rule.gateway_from_lb.to_port == var.gateway_port && aws_vpc_security_group_egress_rule.lb_to_gateway.from_port == var.gateway_port
    error_message = "the load balancer must reach the gateway on gateway_port"
  }
  assert {
    condition     = aws_lb_target_group.gateway.port == var.gateway_port && one(aws_ecs_service.gateway.load_balancer).container_port == var.gateway_port
    error_message = "the gateway's target group and service must target gateway_port"
  }
  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.bridge_from_client_cidrs : r.from_port == var.bridge_port && r.to_port == var.bridge_port])
    error_message = "session clients must reach the bridge on bridge_port"
  }
}
