output "cluster_arn" {
  description = "ECS cluster the pool runs in."
  value       = local.cluster_arn
}

output "pool_task_definition_family" {
  description = "Family of the pool's task definition (the only one the reconciler may run)."
  value       = aws_ecs_task_definition.pool.family
}

output "pool_task_definition_arn" {
  description = "Latest revision of the pool's task definition."
  value       = aws_ecs_task_definition.pool.arn
}

output "gateway_url" {
  description = "Base URL of the gateway."
  value       = "${var.gateway_certificate_arn == null ? "http" : "https"}://${aws_lb.gateway.dns_name}"
}

output "redis_url_secret_arn" {
  description = "Secret holding the Redis URL (for `warmpool ctl` from an operator's shell)."
  value       = local.redis_secret_arn
}

output "efs_file_system_id" {
  description = "The shared workspaces file system."
  value       = aws_efs_file_system.workspaces.id
}

output "efs_access_point_id" {
  description = "The one shared access point, rooted at /workspaces/<environment>."
  value       = aws_efs_access_point.workspaces.id
}

output "autoscaling_group_name" {
  description = "The EC2 tier's Auto Scaling group (null on Fargate)."
  value       = local.ec2 ? aws_autoscaling_group.pool[0].name : null
}

output "launch_template_id" {
  description = "The EC2 tier's launch template (null on Fargate)."
  value       = local.ec2 ? aws_launch_template.pool[0].id : null
}

output "pool_security_group_id" {
  description = "Security group of pool tasks (allow your session clients in on bridge_port)."
  value       = aws_security_group.pool_tasks.id
}

output "reconciler_environment" {
  description = "The reconciler's WARMPOOL_* settings, to run it elsewhere or compare."
  value       = local.reconciler_env
}

output "event_queue_url" {
  description = "The reconciler's event feed queue (null with event_feed = false): pass it as the reconciler's --feed-queue-url."
  value       = local.event_queue_url
}

output "event_queue_arn" {
  description = "ARN of the event feed queue (null with event_feed = false)."
  value       = local.event_queue_arn
}

output "event_dead_letter_queue_url" {
  description = "Where events the reconciler could not apply, or EventBridge could not deliver, are kept."
  value       = local.event_feed ? aws_sqs_queue.events_dlq[0].url : null
}

output "event_rule_arn" {
  description = "The EventBridge rule sending this cluster's ECS task state changes to the feed queue."
  value       = local.event_feed ? aws_cloudwatch_event_rule.task_state_change[0].arn : null
}
