# Values the mock AWS provider gives computed attributes: well-formed ARNs and ids where the
# provider validates them, a fixed region and account.

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
mock_resource "aws_sqs_queue" {
  defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:mock", url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mock" }
}
mock_resource "aws_cloudwatch_event_rule" {
  defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/mock" }
}
