# Security groups: each tier accepts only the traffic it serves. Rules are separate resources so
# groups can reference each other without a cycle.

resource "aws_security_group" "pool_tasks" {
  name        = "${var.name}-pool-tasks"
  description = "warmpool pool tasks (bridge + agent)"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_security_group" "control" {
  name        = "${var.name}-control"
  description = "warmpool reconciler and gateway tasks"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_security_group" "gateway_lb" {
  name        = "${var.name}-gateway-lb"
  description = "warmpool gateway load balancer"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_security_group" "efs" {
  name        = "${var.name}-efs"
  description = "warmpool shared workspaces (NFS)"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_security_group" "instances" {
  name        = "${var.name}-instances"
  description = "warmpool container instances (no inbound)"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

# Outbound: tasks pull images, reach Redis/EFS and whatever the agent calls.
resource "aws_vpc_security_group_egress_rule" "all" {
  for_each = {
    pool_tasks = aws_security_group.pool_tasks.id
    control    = aws_security_group.control.id
    instances  = aws_security_group.instances.id
  }
  security_group_id = each.value
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
  description       = "outbound"
}

resource "aws_vpc_security_group_egress_rule" "lb_to_gateway" {
  security_group_id            = aws_security_group.gateway_lb.id
  referenced_security_group_id = aws_security_group.control.id
  ip_protocol                  = "tcp"
  from_port                    = var.gateway_port
  to_port                      = var.gateway_port
  description                  = "to gateway tasks"
}

resource "aws_vpc_security_group_ingress_rule" "gateway_from_lb" {
  security_group_id            = aws_security_group.control.id
  referenced_security_group_id = aws_security_group.gateway_lb.id
  ip_protocol                  = "tcp"
  from_port                    = var.gateway_port
  to_port                      = var.gateway_port
  description                  = "gateway from its load balancer"
}

resource "aws_vpc_security_group_ingress_rule" "lb_from_clients" {
  for_each          = toset(var.gateway_ingress_cidrs)
  security_group_id = aws_security_group.gateway_lb.id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.gateway_certificate_arn == null ? 80 : 443
  to_port           = var.gateway_certificate_arn == null ? 80 : 443
  description       = "gateway clients"
}

resource "aws_vpc_security_group_ingress_rule" "metrics" {
  for_each          = toset(var.metrics_scraper_cidrs)
  security_group_id = aws_security_group.control.id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.metrics_port
  to_port           = var.metrics_port
  description       = "metrics scrape"
}

resource "aws_vpc_security_group_ingress_rule" "bridge_from_client_sgs" {
  for_each                     = toset(var.session_client_security_group_ids)
  security_group_id            = aws_security_group.pool_tasks.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = var.bridge_port
  to_port                      = var.bridge_port
  description                  = "session clients to the bridge"
}

resource "aws_vpc_security_group_ingress_rule" "bridge_from_client_cidrs" {
  for_each          = toset(var.session_client_cidrs)
  security_group_id = aws_security_group.pool_tasks.id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.bridge_port
  to_port           = var.bridge_port
  description       = "session clients to the bridge"
}

resource "aws_vpc_security_group_ingress_rule" "efs_from_pool" {
  security_group_id            = aws_security_group.efs.id
  referenced_security_group_id = aws_security_group.pool_tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  description                  = "NFS from pool tasks"
}
