# Every port the processes listen on is the one their task definitions map, their environment
# tells them, their security groups open and the load balancer targets: one variable each
# (gateway_port, metrics_port, bridge_port), wired through. Planned and applied against a mock
# AWS provider: no account, no network. test/deploy/ports.test.ts holds the variables' defaults
# to the processes' flag defaults and to deploy/prometheus/prometheus.yml.

mock_provider "aws" {
  source = "./tests/mocks"
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
