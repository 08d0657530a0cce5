# The reconciler's event feed (docs/deploy.md "Event feed"): ECS task state change events of this
# cluster go from an EventBridge rule to an SQS queue, which the reconciler long-polls and deletes
# from after applying. Events are at-least-once and unordered; the reconciler orders them by
# detail.version and relists slowly, so a lost or late event costs freshness, never safety.
#
# Off (var.event_feed = false) the reconciler works from Redis, its own writes and paced relists.

locals {
  event_feed            = var.event_feed
  event_queue_name      = "${var.name}-ecs-events"
  event_dlq_name        = "${var.name}-ecs-events-dlq"
  event_rule_name       = "${var.name}-task-state-change"
  event_queue_arn       = local.event_feed ? aws_sqs_queue.events[0].arn : null
  event_queue_url       = local.event_feed ? aws_sqs_queue.events[0].url : null
  event_dead_letter_arn = local.event_feed ? aws_sqs_queue.events_dlq[0].arn : null
}

resource "aws_cloudwatch_event_rule" "task_state_change" {
  count       = local.event_feed ? 1 : 0
  name        = local.event_rule_name
  description = "ECS task state changes of ${local.cluster_name}, for the warm pool reconciler's task cache."
  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail        = { clusterArn = [local.cluster_arn] }
  })
  tags = local.tags
}

# Messages the reconciler could not apply after max_receive_count receives, and events
# EventBridge could not deliver: kept 14 days for a look, never consumed automatically.
resource "aws_sqs_queue" "events_dlq" {
  count                     = local.event_feed ? 1 : 0
  name                      = local.event_dlq_name
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_sqs_queue" "events" {
  count = local.event_feed ? 1 : 0
  name  = local.event_queue_name
  # An event older than a relist interval is stale anyway; the default keeps a day.
  message_retention_seconds  = var.event_queue_retention_seconds
  visibility_timeout_seconds = var.event_queue_visibility_timeout_seconds
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.events_dlq[0].arn
    maxReceiveCount     = var.event_queue_max_receive_count
  })
  tags = local.tags
}

# Only the feed queue may redrive into the dead-letter queue.
resource "aws_sqs_queue_redrive_allow_policy" "events_dlq" {
  count     = local.event_feed ? 1 : 0
  queue_url = aws_sqs_queue.events_dlq[0].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.events[0].arn]
  })
}

# EventBridge may send to the queue (and its dead-letter queue) for this rule only.
data "aws_iam_policy_document" "events_queue" {
  count = local.event_feed ? 1 : 0
  statement {
    sid       = "EventBridgeSendsThisRulesEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events[0].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.task_state_change[0].arn]
    }
  }
}

data "aws_iam_policy_document" "events_dlq" {
  count = local.event_feed ? 1 : 0
  statement {
    sid       = "EventBridgeParksUndeliverableEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events_dlq[0].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.task_state_change[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events" {
  count     = local.event_feed ? 1 : 0
  queue_url = aws_sqs_queue.events[0].id
  policy    = data.aws_iam_policy_document.events_queue[0].json
}

resource "aws_sqs_queue_policy" "events_dlq" {
  count     = local.event_feed ? 1 : 0
  queue_url = aws_sqs_queue.events_dlq[0].id
  policy    = data.aws_iam_policy_document.events_dlq[0].json
}

resource "aws_cloudwatch_event_target" "events_queue" {
  count     = local.event_feed ? 1 : 0
  rule      = aws_cloudwatch_event_rule.task_state_change[0].name
  target_id = "reconciler-feed"
  arn       = aws_sqs_queue.events[0].arn

  # An event undelivered for an hour is stale: park it rather than deliver it late.
  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 185
  }
  dead_letter_config {
    arn = aws_sqs_queue.events_dlq[0].arn
  }
}
