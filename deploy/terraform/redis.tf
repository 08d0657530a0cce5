# Redis holds the whole pool state (DESIGN §4). Either an ElastiCache replication group created
# here — TLS in transit, AUTH token, encrypted at rest, a replica with automatic failover — or an
# existing endpoint given as a secret. Processes receive the URL only as an ECS secret.

resource "aws_security_group" "redis" {
  count       = local.create_redis ? 1 : 0
  name        = "${var.name}-redis"
  description = "warmpool Redis"
  vpc_id      = var.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  for_each = local.create_redis ? {
    pool_tasks = aws_security_group.pool_tasks.id
    control    = aws_security_group.control.id
  } : {}
  security_group_id            = aws_security_group.redis[0].id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  description                  = "redis from ${each.key}"
}

resource "aws_elasticache_subnet_group" "redis" {
  count      = local.create_redis ? 1 : 0
  name       = "${var.name}-redis"
  subnet_ids = var.private_subnet_ids
  tags       = local.tags
}

# Keyspace notifications of the config key let a plain SET by on-call start a pass within
# milliseconds; ElastiCache refuses CONFIG SET, so the parameter group enables them (K$g).
resource "aws_elasticache_parameter_group" "redis" {
  count  = local.create_redis ? 1 : 0
  name   = "${var.name}-redis"
  family = "redis${split(".", var.redis_engine_version)[0]}"

  parameter {
    name  = "notify-keyspace-events"
    value = "K$g"
  }

  tags = local.tags
}

resource "aws_elasticache_replication_group" "redis" {
  count                      = local.create_redis ? 1 : 0
  replication_group_id       = "${var.name}-redis"
  description                = "warmpool pool state for ${var.name}"
  engine                     = "redis"
  engine_version             = var.redis_engine_version
  node_type                  = var.redis_node_type
  port                       = 6379
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  multi_az_enabled           = true
  subnet_group_name          = aws_elasticache_subnet_group.redis[0].name
  parameter_group_name       = aws_elasticache_parameter_group.redis[0].name
  security_group_ids         = [aws_security_group.redis[0].id]
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  auth_token                 = var.redis_auth_token
  apply_immediately          = false
  tags                       = local.tags

  lifecycle {
    precondition {
      condition     = var.redis_auth_token != null && can(regex("^[^@\"/ ]{16,128}$", coalesce(var.redis_auth_token, "-")))
      error_message = "redis_auth_token: required when existing_redis_url_secret_arn is null; 16-128 characters without @, \", / or spaces."
    }
  }
}

resource "aws_secretsmanager_secret" "redis_url" {
  count                   = local.create_redis ? 1 : 0
  name                    = "${var.name}/redis-url"
  description             = "rediss:// URL (with AUTH token) of the warmpool Redis"
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "redis_url" {
  count     = local.create_redis ? 1 : 0
  secret_id = aws_secretsmanager_secret.redis_url[0].id
  secret_string = format(
    "rediss://:%s@%s:%d",
    urlencode(var.redis_auth_token),
    aws_elasticache_replication_group.redis[0].primary_endpoint_address,
    aws_elasticache_replication_group.redis[0].port,
  )
}

# --- the gateway's bearer tokens -----------------------------------------------------------------

resource "aws_secretsmanager_secret" "gateway_tokens" {
  count                   = local.create_gateway_tokens ? 1 : 0
  name                    = "${var.name}/gateway-tokens"
  description             = "comma-separated bearer tokens the warmpool gateway accepts"
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "gateway_tokens" {
  count         = local.create_gateway_tokens ? 1 : 0
  secret_id     = aws_secretsmanager_secret.gateway_tokens[0].id
  secret_string = join(",", var.gateway_tokens)

  lifecycle {
    precondition {
      condition     = length(var.gateway_tokens) > 0 && alltrue([for t in var.gateway_tokens : length(t) >= 32 && !strcontains(t, ",")])
      error_message = "gateway_tokens: give at least one token of 32+ characters without commas, or set gateway_tokens_secret_arn."
    }
  }
}
