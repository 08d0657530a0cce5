# The control plane on Fargate: the reconciler as a singleton service and the gateway behind a
# load balancer. Pool tasks are not a service: the reconciler starts them with RunTask.

resource "aws_ecs_service" "reconciler" {
  name            = "${var.name}-reconciler"
  cluster         = local.cluster_arn
  task_definition = aws_ecs_task_definition.reconciler.arn
  launch_type     = "FARGATE"
  propagate_tags  = "SERVICE"

  # A singleton: a deployment stops the old task before starting the new one, so two never
  # overlap for long. The Redis leader lease (with its fencing epoch) remains the real guard.
  desired_count                      = 1
  deployment_maximum_percent         = 100
  deployment_minimum_healthy_percent = 0

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.control.id]
    assign_public_ip = var.assign_public_ip
  }

  tags = local.tags
}

resource "aws_ecs_service" "gateway" {
  name                              = "${var.name}-gateway"
  cluster                           = local.cluster_arn
  task_definition                   = aws_ecs_task_definition.gateway.arn
  launch_type                       = "FARGATE"
  propagate_tags                    = "SERVICE"
  desired_count                     = var.gateway_desired_count
  health_check_grace_period_seconds = 15

  deployment_maximum_percent         = 200
  deployment_minimum_healthy_percent = 100

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.control.id]
    assign_public_ip = var.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.gateway.arn
    container_name   = "gateway"
    container_port   = var.gateway_port
  }

  depends_on = [aws_lb_listener.gateway]
  tags       = local.tags
}

# --- the gateway's load balancer -----------------------------------------------------------------

resource "aws_lb" "gateway" {
  name                       = "${var.name}-gw"
  load_balancer_type         = "application"
  internal                   = var.gateway_internal
  subnets                    = var.gateway_internal ? var.private_subnet_ids : var.public_subnet_ids
  security_groups            = [aws_security_group.gateway_lb.id]
  drop_invalid_header_fields = true
  # A claim may wait for a warm task (the gateway's --max-wait-ms, 300 s by default); the load
  # balancer must not cut such a request first.
  idle_timeout = var.gateway_idle_timeout_seconds
  tags         = local.tags

  lifecycle {
    precondition {
      condition     = var.gateway_internal || length(var.public_subnet_ids) >= 2
      error_message = "public_subnet_ids: an internet-facing gateway (gateway_internal = false) needs two public subnets."
    }
  }
}

resource "aws_lb_target_group" "gateway" {
  name                 = "${var.name}-gw"
  port                 = var.gateway_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 15

  health_check {
    path                = "/readyz"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = local.tags
}

resource "aws_lb_listener" "gateway" {
  load_balancer_arn = aws_lb.gateway.arn
  port              = var.gateway_certificate_arn == null ? 80 : 443
  protocol          = var.gateway_certificate_arn == null ? "HTTP" : "HTTPS"
  certificate_arn   = var.gateway_certificate_arn
  ssl_policy        = var.gateway_certificate_arn == null ? null : "ELBSecurityPolicy-TLS13-1-2-2021-06"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.gateway.arn
  }

  tags = local.tags
}
