# Least privilege. Only the reconciler calls AWS (DESIGN §2): the gateway task has no task role at
# all, the pool task role may only mount the shared access point, and the execution roles may only
# pull images, write their own log groups and read their own secrets. docs/deploy.md has the table.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

# --- the reconciler: the only process with AWS permissions --------------------------------------

locals {
  # The tag RunTask puts on every pool task (pkg/ecs/driver.ts; local.pool_tags on the task
  # definition, propagated): RunTask must set it, StopTask requires it.
  pool_tag_key = "warmpool:pool"
}

resource "aws_iam_role" "reconciler_task" {
  name               = "${var.name}-reconciler-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "reconciler" {
  # RunTask must tag the task with the pool's tag (pkg/ecs/driver.ts sends tags on RunTask), so
  # every task this role starts carries it and StopTask below can require it.
  statement {
    sid       = "RunOnlyThePoolFamilyOnTheClusterTagged"
    actions   = ["ecs:RunTask"]
    resources = [local.pool_task_definition_arns]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.pool_tag_key}"
      values   = [local.pool]
    }
  }

  # Tag-on-create only: tags may be written as part of RunTask, never on an existing task.
  statement {
    sid       = "TagTasksItStarts"
    actions   = ["ecs:TagResource"]
    resources = [local.cluster_task_arns]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  # Only tasks carrying the pool's tag: nothing else in a shared cluster can be stopped.
  statement {
    sid       = "StopOnlyThePoolsTasks"
    actions   = ["ecs:StopTask"]
    resources = [local.cluster_task_arns]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "ecs:ResourceTag/${local.pool_tag_key}"
      values   = [local.pool]
    }
  }

  statement {
    sid       = "DescribeTasksOfTheCluster"
    actions   = ["ecs:DescribeTasks"]
    resources = [local.cluster_task_arns]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  # ListTasks has no task resource to scope; the ecs:cluster condition keeps it to one cluster.
  statement {
    sid       = "ListTasksOfTheCluster"
    actions   = ["ecs:ListTasks"]
    resources = ["*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  # The reconciler resolves the family to its latest revision; AWS scopes this call to no resource.
  statement {
    sid       = "ResolveTheTaskDefinition"
    actions   = ["ecs:DescribeTaskDefinition"]
    resources = ["*"]
  }

  statement {
    sid       = "PassOnlyThePoolRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.pool_task.arn, aws_iam_role.pool_execution.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  # Auto Scaling Describe* calls support no resource-level permissions.
  dynamic "statement" {
    for_each = local.ec2 ? [1] : []
    content {
      sid       = "DescribeAutoScaling"
      actions   = ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeWarmPool"]
      resources = ["*"]
    }
  }

  # Size the warm pool and the group, and protect instances hosting tasks before a scale-in.
  dynamic "statement" {
    for_each = local.ec2 ? [1] : []
    content {
      sid = "SizeOnlyThePoolGroup"
      actions = [
        "autoscaling:PutWarmPool",
        "autoscaling:SetDesiredCapacity",
        "autoscaling:SetInstanceProtection",
      ]
      resources = [local.asg_arn_pattern]
    }
  }

  # Which instances host tasks, and their registered capacity (tasks per instance).
  dynamic "statement" {
    for_each = local.ec2 ? [1] : []
    content {
      sid       = "ListContainerInstancesOfTheCluster"
      actions   = ["ecs:ListContainerInstances"]
      resources = [local.cluster_arn]
    }
  }

  dynamic "statement" {
    for_each = local.ec2 ? [1] : []
    content {
      sid       = "DescribeContainerInstancesOfTheCluster"
      actions   = ["ecs:DescribeContainerInstances"]
      resources = [local.cluster_container_instance_arns]
      condition {
        test     = "ArnEquals"
        variable = "ecs:cluster"
        values   = [local.cluster_arn]
      }
    }
  }
}

# The event feed: receive, delete and extend what it reads, on its own queue only.
data "aws_iam_policy_document" "reconciler_feed" {
  count = local.event_feed ? 1 : 0
  statement {
    sid = "ConsumeTheEventFeed"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [local.event_queue_arn]
  }
}

resource "aws_iam_role_policy" "reconciler_feed" {
  count  = local.event_feed ? 1 : 0
  name   = "event-feed"
  role   = aws_iam_role.reconciler_task.id
  policy = data.aws_iam_policy_document.reconciler_feed[0].json
}

resource "aws_iam_role_policy" "reconciler" {
  name   = "reconciler"
  role   = aws_iam_role.reconciler_task.id
  policy = data.aws_iam_policy_document.reconciler.json
}

# --- pool tasks: mount the shared access point, nothing else ------------------------------------

resource "aws_iam_role" "pool_task" {
  name               = "${var.name}-pool-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "pool_task" {
  statement {
    sid       = "MountTheSharedAccessPoint"
    actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    resources = [aws_efs_file_system.workspaces.arn]
    condition {
      test     = "StringEquals"
      variable = "elasticfilesystem:AccessPointArn"
      values   = [aws_efs_access_point.workspaces.arn]
    }
  }
}

resource "aws_iam_role_policy" "pool_task" {
  name   = "efs-access-point"
  role   = aws_iam_role.pool_task.id
  policy = data.aws_iam_policy_document.pool_task.json
}

# --- execution roles: pull, log, read own secrets ------------------------------------------------

resource "aws_iam_role" "control_execution" {
  name               = "${var.name}-control-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

resource "aws_iam_role" "pool_execution" {
  name               = "${var.name}-pool-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "control_execution" {
  statement {
    sid       = "EcrAuthHasNoResource"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid       = "PullFromTheAccountsRepositories"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/*"]
  }
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.reconciler.arn}:*", "${aws_cloudwatch_log_group.gateway.arn}:*"]
  }
  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat(local.redis_control_secret_arns, [local.gateway_tokens_secret_arn])
  }
}

data "aws_iam_policy_document" "pool_execution" {
  statement {
    sid       = "EcrAuthHasNoResource"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid       = "PullFromTheAccountsRepositories"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/*"]
  }
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.pool.arn}:*"]
  }
  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.redis_secret_arns["bridge"]]
  }
}

resource "aws_iam_role_policy" "control_execution" {
  name   = "execution"
  role   = aws_iam_role.control_execution.id
  policy = data.aws_iam_policy_document.control_execution.json
}

resource "aws_iam_role_policy" "pool_execution" {
  name   = "execution"
  role   = aws_iam_role.pool_execution.id
  policy = data.aws_iam_policy_document.pool_execution.json
}

# --- container instances (EC2 tier) --------------------------------------------------------------

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  count              = local.ec2 ? 1 : 0
  name               = "${var.name}-instance"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  tags               = local.tags
}

# The ECS agent's own managed policy (register the instance, poll for tasks) and SSM for shell
# access without SSH keys.
resource "aws_iam_role_policy_attachment" "instance" {
  for_each = local.ec2 ? toset([
    "arn:${local.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore",
  ]) : toset([])
  role       = aws_iam_role.instance[0].name
  policy_arn = each.value
}

resource "aws_iam_instance_profile" "instance" {
  count = local.ec2 ? 1 : 0
  name  = "${var.name}-instance"
  role  = aws_iam_role.instance[0].name
  tags  = local.tags
}
