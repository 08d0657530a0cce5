# The event feed and the reconciler's least privilege, planned and applied against a mocked AWS
# provider (no account, no network). Run from a copy of the module after `terraform init`:
#   terraform -chdir=<copy> test -filter=tests/event-feed.tftest.hcl

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  # The provider checks that policies are JSON; the assertions read the documents' statements.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  # Resources whose ARN another resource's argument validates.
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = { arn = "arn:aws:iam::123456789012:instance-profile/mocked" }
  }
  mock_resource "aws_lb" {
    defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/mocked/0123456789abcdef" }
  }
  mock_resource "aws_lb_target_group" {
    defaults = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mocked/0123456789abcdef" }
  }
  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0" }
  }
  mock_resource "aws_autoscaling_group" {
    defaults = { arn = "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/demo-pool" }
  }
  mock_resource "aws_ecs_cluster" {
    defaults = { arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/demo" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/demo-task-state-change" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:mocked", url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mocked" }
  }
}

variables {
  name               = "demo"
  environment        = "test"
  vpc_id             = "vpc-0123456789abcdef0"
  private_subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  control_image      = "registry.example/warmpool@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  pool_image         = "registry.example/agent@sha256:1111111111111111111111111111111111111111111111111111111111111111"
  agent_command      = ["agent", "--serve"]
  redis_auth_token   = "0123456789abcdef0123456789abcdef"
  gateway_tokens     = ["test-token-0123456789abcdef0123456789"]
}

run "feed_rule_matches_this_clusters_task_state_changes" {
  command = apply

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.task_state_change[0].event_pattern) == {
      source        = ["aws.ecs"]
      "detail-type" = ["ECS Task State Change"]
      detail        = { clusterArn = ["arn:aws:ecs:eu-west-1:123456789012:cluster/demo"] }
    }
    error_message = "the rule must match ECS Task State Change events of this cluster only"
  }
  assert {
    condition     = aws_cloudwatch_event_target.events_queue[0].arn == aws_sqs_queue.events[0].arn
    error_message = "the rule's target must be the feed queue"
  }
  assert {
    condition     = aws_cloudwatch_event_target.events_queue[0].dead_letter_config[0].arn == aws_sqs_queue.events_dlq[0].arn
    error_message = "undeliverable events must go to the dead-letter queue"
  }
}

run "feed_queue_has_a_dead_letter_queue_retention_and_encryption" {
  command = apply

  assert {
    condition = jsondecode(aws_sqs_queue.events[0].redrive_policy) == {
      deadLetterTargetArn = aws_sqs_queue.events_dlq[0].arn
      maxReceiveCount     = 5
    }
    error_message = "the feed queue must redrive to its dead-letter queue after 5 receives"
  }
  assert {
    condition     = aws_sqs_queue.events[0].message_retention_seconds == 86400 && aws_sqs_queue.events_dlq[0].message_retention_seconds == 1209600
    error_message = "retention: one day on the feed, 14 days on the dead-letter queue"
  }
  assert {
    condition     = aws_sqs_queue.events[0].sqs_managed_sse_enabled && aws_sqs_queue.events_dlq[0].sqs_managed_sse_enabled
    error_message = "both queues must be encrypted at rest"
  }
  assert {
    condition     = aws_sqs_queue.events[0].receive_wait_time_seconds == 20
    error_message = "the feed queue long-polls by default"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_allow_policy.events_dlq[0].redrive_allow_policy).sourceQueueArns == [aws_sqs_queue.events[0].arn]
    error_message = "only the feed queue may redrive into the dead-letter queue"
  }
}

run "only_eventbridge_for_this_rule_may_send_to_the_queues" {
  command = apply

  assert {
    condition = alltrue([for d in [data.aws_iam_policy_document.events_queue[0], data.aws_iam_policy_document.events_dlq[0]] :
      length(d.statement) == 1 &&
      d.statement[0].actions == toset(["sqs:SendMessage"]) &&
      one(d.statement[0].principals).identifiers == toset(["events.amazonaws.com"]) &&
      one(d.statement[0].condition).test == "ArnEquals" &&
      one(d.statement[0].condition).variable == "aws:SourceArn" &&
      one(d.statement[0].condition).values == tolist([aws_cloudwatch_event_rule.task_state_change[0].arn])
    ])
    error_message = "the queue policies must allow sqs:SendMessage to events.amazonaws.com for this rule only"
  }
  assert {
    condition     = aws_sqs_queue_policy.events[0].queue_url == aws_sqs_queue.events[0].id
    error_message = "the feed queue's policy must be attached to the feed queue"
  }
}

run "reconciler_consumes_only_its_queue" {
  command = apply

  assert {
    condition = length(data.aws_iam_policy_document.reconciler_feed[0].statement) == 1 && (
      data.aws_iam_policy_document.reconciler_feed[0].statement[0].actions == toset([
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
    ]))
    error_message = "the reconciler may receive, delete, extend and read attributes, nothing else"
  }
  assert {
    condition     = data.aws_iam_policy_document.reconciler_feed[0].statement[0].resources == toset([aws_sqs_queue.events[0].arn])
    error_message = "the reconciler's SQS permissions must name the feed queue only"
  }
  assert {
    condition     = aws_iam_role_policy.reconciler_feed[0].role == aws_iam_role.reconciler_task.id
    error_message = "the feed policy belongs to the reconciler's task role"
  }
  assert {
    condition     = output.event_queue_url == aws_sqs_queue.events[0].url
    error_message = "the queue URL must be an output"
  }
}

run "stop_only_tagged_pool_tasks_and_run_only_tagged" {
  command = apply

  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.reconciler.statement :
      s.actions == toset(["ecs:StopTask"]) && anytrue([for c in s.condition :
        c.test == "StringEquals" && c.variable == "ecs:ResourceTag/warmpool:pool" && c.values == tolist(["demo"])
      ])
    ])
    error_message = "StopTask must require the pool's tag on the task"
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.reconciler.statement :
      !contains(tolist(s.actions), "ecs:StopTask") || s.actions == toset(["ecs:StopTask"])
    ])
    error_message = "StopTask must be granted by its own, tag-conditioned statement only"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.reconciler.statement :
      s.actions == toset(["ecs:RunTask"]) &&
      s.resources == toset(["arn:aws:ecs:eu-west-1:123456789012:task-definition/demo-pool:*"]) &&
      anytrue([for c in s.condition : c.variable == "aws:RequestTag/warmpool:pool" && c.values == tolist(["demo"])])
    ])
    error_message = "RunTask must be limited to the pool's family and require the pool's tag in the request"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.reconciler.statement :
      s.actions == toset(["ecs:TagResource"]) &&
      anytrue([for c in s.condition : c.variable == "ecs:CreateAction" && c.values == tolist(["RunTask"])])
    ])
    error_message = "tags may be written only as part of RunTask"
  }
}

run "feed_off_creates_nothing_and_grants_nothing" {
  command = apply

  variables {
    event_feed = false
  }

  assert {
    condition = (length(aws_cloudwatch_event_rule.task_state_change) + length(aws_sqs_queue.events) +
    length(aws_sqs_queue.events_dlq) + length(aws_iam_role_policy.reconciler_feed)) == 0
    error_message = "with event_feed = false there is no rule, no queue and no SQS permission"
  }
  assert {
    condition     = output.event_queue_url == null
    error_message = "no queue URL without the feed"
  }
}

run "retention_outside_sqs_limits_is_rejected" {
  command = plan

  variables {
    event_queue_retention_seconds = 30
  }

  expect_failures = [var.event_queue_retention_seconds]
}
