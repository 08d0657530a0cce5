# Task definitions of the three processes. Each process reads its settings from WARMPOOL_*
# environment variables (every `warmpool` flag has one) and its secrets from ECS secrets, so no
# secret is ever in a task definition.

locals {
  # Each process its own Redis ACL user's URL (redis.tf; the same secret without RBAC).
  secret_redis_url = { for r, arn in local.redis_secret_arns : r => { name = "WARMPOOL_REDIS_URL", valueFrom = arn } }

  # `warmpool reconciler`: where and what to launch. Pool sizing is the desired state in Redis.
  reconciler_env = merge(
    {
      WARMPOOL_POOL             = local.pool
      WARMPOOL_CLUSTER          = local.cluster_arn
      WARMPOOL_TASK_DEFINITION  = local.pool_family
      WARMPOOL_REGION           = local.region
      WARMPOOL_SUBNETS          = join(",", var.private_subnet_ids)
      WARMPOOL_SECURITY_GROUPS  = aws_security_group.pool_tasks.id
      WARMPOOL_ASSIGN_PUBLIC_IP = tostring(var.assign_public_ip)
      WARMPOOL_METRICS_PORT     = tostring(var.metrics_port)
    },
    local.ec2 ? { WARMPOOL_CAPACITY_PROVIDER = local.capacity_provider } : { WARMPOOL_LAUNCH_TYPE = "FARGATE" },
  )

  # `warmpool gateway`: Redis only; tokens arrive as a secret (WARMPOOL_GATEWAY_TOKENS).
  # Its keep-alive outlasts the load balancer's idle timeout, so the ALB always closes an idle
  # connection first (the other way round it may reuse one the gateway is closing: a 502).
  gateway_env = {
    WARMPOOL_POOL                  = local.pool
    WARMPOOL_HOST                  = "0.0.0.0"
    WARMPOOL_PORT                  = tostring(var.gateway_port)
    WARMPOOL_KEEP_ALIVE_TIMEOUT_MS = tostring((var.gateway_idle_timeout_seconds + 5) * 1000)
    WARMPOOL_METRICS_PORT          = tostring(var.metrics_port)
  }

  # `warmpool bridge`: registers warm, then serves one user's session on the shared mount. It
  # listens on all interfaces and advertises the task's own IP (from ECS task metadata).
  # Per-user isolation is required, not "auto": a bridge that could not switch UIDs refuses to start.
  bridge_env = merge(var.extra_pool_environment, {
    WARMPOOL_POOL           = local.pool
    WARMPOOL_ISOLATION      = "per-user"
    WARMPOOL_UID_BASE       = tostring(local.user_uid_base)
    WARMPOOL_WORKSPACE_ROOT = local.workspace_mount
    WARMPOOL_LISTEN_HOST    = "0.0.0.0"
    WARMPOOL_SESSION_PORT   = tostring(var.bridge_port)
    WARMPOOL_AGENT_COMMAND  = jsonencode(var.agent_command)
  })

  awslogs = {
    for k, group in local.log_groups : k => {
      logDriver = "awslogs"
      options = {
        awslogs-group         = group
        awslogs-region        = local.region
        awslogs-stream-prefix = k
      }
    }
  }
}

resource "aws_ecs_task_definition" "pool" {
  family                   = local.pool_family
  network_mode             = "awsvpc"
  requires_compatibilities = local.ec2 ? ["EC2"] : ["FARGATE"]
  cpu                      = tostring(var.pool_cpu)
  memory                   = tostring(var.pool_memory)
  task_role_arn            = aws_iam_role.pool_task.arn
  execution_role_arn       = aws_iam_role.pool_execution.arn

  container_definitions = jsonencode([
    merge({
      name      = local.pool_container_name
      image     = var.pool_image
      essential = true
      # The bridge registers the task warm, waits for init_user, prepares /mnt/efs/<userId> and
      # only then starts the agent command given after "--", as that user's UID. It runs as root
      # with CHOWN, KILL, SETGID and SETUID only; the Redis URL secret below lands in its
      # environment, which /proc shows to its own uid only, never to an agent's (docs/security.md).
      entryPoint = ["warmpool", "bridge"]
      command    = concat(["--"], var.agent_command)
      user       = "0:0"
      linuxParameters = {
        capabilities = { drop = local.bridge_dropped_capabilities }
        # tini as PID 1 reaps what agents leave behind; it runs as root too, closed to agents.
        initProcessEnabled = true
      }
      readonlyRootFilesystem = true
      stopTimeout            = var.stop_timeout_seconds
      portMappings           = [{ containerPort = var.bridge_port, protocol = "tcp", name = "session" }]
      environment            = [for k in sort(keys(local.bridge_env)) : { name = k, value = local.bridge_env[k] }]
      secrets                = [local.secret_redis_url["bridge"]]
      mountPoints            = [{ sourceVolume = "workspaces", containerPath = local.workspace_mount, readOnly = false }]
      logConfiguration       = local.awslogs.pool
      },
      # EC2 only (Fargate refuses the field): no process in the container gains privileges by exec.
      { for k, v in { dockerSecurityOptions = ["no-new-privileges"] } : k => v if local.ec2 },
    ),
  ])

  volume {
    name = "workspaces"
    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.workspaces.id
      transit_encryption = "ENABLED"
      authorization_config {
        access_point_id = aws_efs_access_point.workspaces.id
        iam             = "ENABLED"
      }
    }
  }

  # RunTask propagates these to every pool task (propagateTags = TASK_DEFINITION).
  tags = merge(local.tags, local.pool_tags)
}

resource "aws_ecs_task_definition" "reconciler" {
  family                   = "${var.name}-reconciler"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  task_role_arn            = aws_iam_role.reconciler_task.arn
  execution_role_arn       = aws_iam_role.control_execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name         = "reconciler"
      image        = var.control_image
      essential    = true
      command      = ["reconciler"]
      stopTimeout  = 30
      portMappings = [{ containerPort = var.metrics_port, protocol = "tcp", name = "metrics" }]
      environment  = [for k in sort(keys(local.reconciler_env)) : { name = k, value = local.reconciler_env[k] }]
      secrets      = [local.secret_redis_url["reconciler"]]
      healthCheck = {
        command     = ["CMD", "node", "/app/healthcheck.mjs", "http://127.0.0.1:${var.metrics_port}/healthz"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 20
      }
      logConfiguration = local.awslogs.reconciler
    },
  ])

  tags = local.tags
}

# No task_role_arn: the gateway talks to Redis only and gets no AWS credentials at all.
resource "aws_ecs_task_definition" "gateway" {
  family                   = "${var.name}-gateway"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.control_execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name        = "gateway"
      image       = var.control_image
      essential   = true
      command     = ["gateway"]
      stopTimeout = 30
      portMappings = [
        { containerPort = var.gateway_port, protocol = "tcp", name = "http" },
        { containerPort = var.metrics_port, protocol = "tcp", name = "metrics" },
      ]
      environment = [for k in sort(keys(local.gateway_env)) : { name = k, value = local.gateway_env[k] }]
      secrets = [
        local.secret_redis_url["gateway"],
        { name = "WARMPOOL_GATEWAY_TOKENS", valueFrom = local.gateway_tokens_secret_arn },
      ]
      healthCheck = {
        command     = ["CMD", "node", "/app/healthcheck.mjs", "http://127.0.0.1:${var.gateway_port}/healthz"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 10
      }
      logConfiguration = local.awslogs.gateway
    },
  ])

  tags = local.tags
}
