# Least privilege, read from the module's own policy documents as Terraform evaluates them (on a
# mock AWS provider: no account, no network): only the reconciler calls AWS, and only for what
# it does (DESIGN §2, §6). docs/deploy.md carries the same table for humans.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "wp-test"
  environment        = "test"
  vpc_id             = "vpc-0123456789abcdef0"
  private_subnet_ids = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  public_subnet_ids  = ["subnet-0000000000000000c", "subnet-0000000000000000d"]
  control_image      = "registry.example/warmpool@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  pool_image         = "registry.example/agent@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  agent_command      = ["agent", "headless"]
  redis_auth_token   = "0123456789abcdef0123456789abcdef"
  gateway_tokens     = ["tok-0123456789abcdef0123456789abcdef"]
}

run "least_privilege_on_ec2" {
  command = apply

  # Distinct ARNs for the two roles the reconciler may pass (the mock gives every role the same).
  override_resource {
    target = aws_iam_role.pool_task
    values = { arn = "arn:aws:iam::123456789012:role/wp-test-pool-task" }
  }
  override_resource {
    target = aws_iam_role.pool_execution
    values = { arn = "arn:aws:iam::123456789012:role/wp-test-pool-execution" }
  }
  # Distinct secret ARNs, so "reads exactly its own secrets" can tell them apart.
  override_resource {
    target = aws_secretsmanager_secret.redis_url[0]
    values = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:wp-test-redis-url-AbCdEf" }
  }
  override_resource {
    target = aws_secretsmanager_secret.gateway_tokens[0]
    values = { arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:wp-test-gateway-tokens-AbCdEf" }
  }

  # No wildcard action anywhere; "*" as a resource only for actions AWS scopes to no resource.
  assert {
    condition = alltrue(flatten([
      for d in [
        data.aws_iam_policy_document.reconciler, data.aws_iam_policy_document.pool_task,
        data.aws_iam_policy_document.control_execution, data.aws_iam_policy_document.pool_execution,
        data.aws_iam_policy_document.ecs_tasks_assume, data.aws_iam_policy_document.ec2_assume,
        data.aws_iam_policy_document.efs, data.aws_iam_policy_document.pool_task_efs_root,
        data.aws_iam_policy_document.reconciler_feed[0],
        ] : [
        for s in d.statement : [
          for a in coalesce(s.actions, toset([])) : a != "*" && !endswith(a, ":*") && (
            !contains(coalesce(s.resources, toset([])), "*") || contains([
              "ecs:ListTasks", "ecs:DescribeTaskDefinition", "autoscaling:DescribeAutoScalingGroups",
              "autoscaling:DescribeWarmPool", "ecr:GetAuthorizationToken",
            ], a)
          )
        ]
      ]
    ]))
    error_message = "a policy allows a wildcard action, or \"*\" resources for an action that can be scoped"
  }

  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.reconciler.statement : tolist(s.actions)])) == toset([
      "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeWarmPool", "autoscaling:PutWarmPool",
      "autoscaling:SetDesiredCapacity", "autoscaling:SetInstanceProtection",
      "ecs:DescribeContainerInstances", "ecs:DescribeTaskDefinition", "ecs:DescribeTasks",
      "ecs:ListContainerInstances", "ecs:ListTasks", "ecs:RunTask", "ecs:StopTask", "ecs:TagResource",
      "iam:PassRole",
    ])
    error_message = "the reconciler may do exactly what the reconcile pass needs, nothing more"
  }

  # RunTask: only the pool's family, only on the pool's cluster.
  assert {
    condition = jsonencode([
      for s in data.aws_iam_policy_document.reconciler.statement : {
        resources = s.resources
        cluster   = flatten([for c in s.condition : c.values if c.variable == "ecs:cluster" && c.test == "ArnEquals"])
      } if contains(s.actions, "ecs:RunTask")
      ]) == jsonencode([{
        resources = ["arn:aws:ecs:eu-west-1:123456789012:task-definition/wp-test-pool:*"]
        cluster   = [aws_ecs_cluster.this[0].arn]
    }])
    error_message = "RunTask must be limited to the pool's task-definition family on the pool's cluster"
  }

  # StopTask, DescribeTasks, ListTasks: only within the cluster.
  assert {
    condition = alltrue([
      for a in ["ecs:StopTask", "ecs:DescribeTasks", "ecs:ListTasks", "ecs:DescribeContainerInstances"] :
      jsonencode([for s in data.aws_iam_policy_document.reconciler.statement :
        flatten([for c in s.condition : c.values if c.variable == "ecs:cluster" && c.test == "ArnEquals"])
      if contains(s.actions, a)]) == jsonencode([[aws_ecs_cluster.this[0].arn]])
    ])
    error_message = "task and container-instance calls must carry the ecs:cluster condition naming the pool's cluster"
  }
  assert {
    condition     = jsonencode([for s in data.aws_iam_policy_document.reconciler.statement : s.resources if contains(s.actions, "ecs:StopTask")]) == jsonencode([["arn:aws:ecs:eu-west-1:123456789012:task/${aws_ecs_cluster.this[0].name}/*"]])
    error_message = "StopTask must be limited to the tasks of the pool's cluster"
  }

  assert {
    condition     = [for s in data.aws_iam_policy_document.reconciler.statement : flatten([for c in s.condition : tolist(c.values) if c.variable == "ecs:CreateAction"]) if contains(s.actions, "ecs:TagResource")] == [["RunTask"]]
    error_message = "tags may be written only as part of RunTask"
  }

  assert {
    condition = jsonencode([
      for s in data.aws_iam_policy_document.reconciler.statement : {
        resources = sort(s.resources)
        service   = flatten([for c in s.condition : c.values if c.variable == "iam:PassedToService"])
      } if contains(s.actions, "iam:PassRole")
      ]) == jsonencode([{
        resources = sort([aws_iam_role.pool_task.arn, aws_iam_role.pool_execution.arn])
        service   = ["ecs-tasks.amazonaws.com"]
    }])
    error_message = "iam:PassRole only for the pool's task and execution roles, only to ECS tasks"
  }

  assert {
    condition     = jsonencode([for s in data.aws_iam_policy_document.reconciler.statement : s.resources if length(setintersection(s.actions, ["autoscaling:PutWarmPool", "autoscaling:SetDesiredCapacity", "autoscaling:SetInstanceProtection"])) > 0]) == jsonencode([["arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/wp-test-pool"]]) && aws_autoscaling_group.pool[0].name == "wp-test-pool"
    error_message = "Auto Scaling writes only on the pool's group, in one statement"
  }

  # The gateway gets no AWS credentials; pool tasks may only mount the shared access point.
  assert {
    condition     = aws_ecs_task_definition.gateway.task_role_arn == null
    error_message = "the gateway task must have no task role"
  }
  assert {
    condition = jsonencode([for s in data.aws_iam_policy_document.pool_task.statement : {
      actions     = sort(s.actions)
      resources   = s.resources
      accessPoint = flatten([for c in s.condition : c.values if c.variable == "elasticfilesystem:AccessPointArn"])
      }]) == jsonencode([{
      actions     = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
      resources   = [aws_efs_file_system.workspaces.arn]
      accessPoint = [aws_efs_access_point.workspaces.arn]
    }])
    error_message = "pool tasks may only mount and write the shared access point"
  }

  assert {
    condition = jsonencode([for s in data.aws_iam_policy_document.pool_task_efs_root.statement : {
      actions     = sort(s.actions)
      resources   = s.resources
      accessPoint = flatten([for c in s.condition : c.values if c.variable == "elasticfilesystem:AccessPointArn"])
      }]) == jsonencode([{
      actions     = ["elasticfilesystem:ClientRootAccess"]
      resources   = [aws_efs_file_system.workspaces.arn]
      accessPoint = [aws_efs_access_point.workspaces.arn]
    }])
    error_message = "EFS root access for the bridge only through the shared access point"
  }

  # Execution roles read only their own secrets and write only their own log groups.
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.control_execution.statement : tolist(s.resources) if contains(s.actions, "secretsmanager:GetSecretValue")])) == toset([aws_secretsmanager_secret.redis_url[0].arn, aws_secretsmanager_secret.gateway_tokens[0].arn])
    error_message = "the control execution role reads exactly the Redis URL and gateway token secrets"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.pool_execution.statement : tolist(s.resources) if contains(s.actions, "secretsmanager:GetSecretValue")])) == toset([aws_secretsmanager_secret.redis_url[0].arn])
    error_message = "the pool execution role reads exactly the Redis URL secret"
  }

  # Inline policies attach to the roles this table expects, each its own document.
  assert {
    condition = {
      reconciler        = aws_iam_role_policy.reconciler.role == aws_iam_role.reconciler_task.id && aws_iam_role_policy.reconciler.policy == data.aws_iam_policy_document.reconciler.json
      pool_task         = aws_iam_role_policy.pool_task.role == aws_iam_role.pool_task.id && aws_iam_role_policy.pool_task.policy == data.aws_iam_policy_document.pool_task.json
      control_execution = aws_iam_role_policy.control_execution.role == aws_iam_role.control_execution.id && aws_iam_role_policy.control_execution.policy == data.aws_iam_policy_document.control_execution.json
      pool_execution    = aws_iam_role_policy.pool_execution.role == aws_iam_role.pool_execution.id && aws_iam_role_policy.pool_execution.policy == data.aws_iam_policy_document.pool_execution.json
      efs_root          = aws_iam_role_policy.pool_task_efs_root.role == aws_iam_role.pool_task.id && aws_iam_role_policy.pool_task_efs_root.policy == data.aws_iam_policy_document.pool_task_efs_root.json
    } == { reconciler = true, pool_task = true, control_execution = true, pool_execution = true, efs_root = true }
    error_message = "an inline policy is attached to the wrong role or carries another document"
  }
}

run "existing_cluster_is_named_everywhere" {
  command = apply
  variables {
    existing_cluster_arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/shared"
  }
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.reconciler.statement :
      alltrue([for c in s.condition : jsonencode(c.values) == jsonencode(["arn:aws:ecs:eu-west-1:123456789012:cluster/shared"]) if c.variable == "ecs:cluster"])
    ])
    error_message = "with an existing cluster, every ecs:cluster condition must name it"
  }
  assert {
    condition     = jsonencode([for s in data.aws_iam_policy_document.reconciler.statement : s.resources if contains(s.actions, "ecs:StopTask")]) == jsonencode([["arn:aws:ecs:eu-west-1:123456789012:task/shared/*"]])
    error_message = "with an existing cluster, StopTask names its tasks"
  }
}

run "fargate_has_no_auto_scaling_permission" {
  command = apply
  variables {
    capacity = "fargate"
  }
  assert {
    condition     = length([for a in flatten([for s in data.aws_iam_policy_document.reconciler.statement : tolist(s.actions)]) : a if startswith(a, "autoscaling:") || strcontains(a, "ContainerInstances")]) == 0
    error_message = "on Fargate the reconciler gets no Auto Scaling or container-instance permission"
  }
}
