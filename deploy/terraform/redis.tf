# Redis holds the whole pool state (DESIGN §4). Either an ElastiCache replication group created
# here — TLS in transit, AUTH token, encrypted at rest, a replica with automatic failover — or an
# existing endpoint given as a secret. Processes receive the URL only as an ECS secret.
# With redis_cluster_mode the group runs in cluster mode (shards × replicas): every pool's keys
# share the hash tag {pool}, so a pool lives on one shard and the pools spread over them; the
# URL is then rediss+cluster://…@<configuration endpoint> (pkg/redis/connect.ts).

locals {
  redis_cluster = var.redis_cluster_mode != null
  # The address every process dials: the configuration endpoint in cluster mode (the client reads
  # the slot map from it), the primary endpoint otherwise.
  redis_address = local.create_redis ? (
    local.redis_cluster
    ? aws_elasticache_replication_group.redis[0].configuration_endpoint_address
    : aws_elasticache_replication_group.redis[0].primary_endpoint_address
  ) : null
  redis_scheme = local.redis_cluster ? "rediss+cluster" : "rediss"
}

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

  # ElastiCache decides cluster mode by this parameter of the group's parameter group.
  dynamic "parameter" {
    for_each = local.redis_cluster ? ["yes"] : []
    content {
      name  = "cluster-enabled"
      value = parameter.value
    }
  }

  tags = local.tags
}

resource "aws_elasticache_replication_group" "redis" {
  count                = local.create_redis ? 1 : 0
  replication_group_id = "${var.name}-redis"
  description          = "warmpool pool state for ${var.name}"
  engine               = "redis"
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  port                 = 6379
  # Cluster mode: shards × (1 + replicas); else one primary and one replica.
  cluster_mode               = local.redis_cluster ? "enabled" : "disabled"
  num_cache_clusters         = local.redis_cluster ? null : 2
  num_node_groups            = local.redis_cluster ? var.redis_cluster_mode.shards : null
  replicas_per_node_group    = local.redis_cluster ? var.redis_cluster_mode.replicas_per_shard : null
  automatic_failover_enabled = true
  multi_az_enabled           = true
  subnet_group_name          = aws_elasticache_subnet_group.redis[0].name
  parameter_group_name       = aws_elasticache_parameter_group.redis[0].name
  security_group_ids         = [aws_security_group.redis[0].id]
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  # RBAC (one ACL user per role) when redis_user_passwords is given; else the legacy AUTH token.
  auth_token        = local.redis_rbac ? null : var.redis_auth_token
  user_group_ids    = local.redis_rbac ? [aws_elasticache_user_group.redis[0].user_group_id] : null
  apply_immediately = false
  tags              = local.tags

  lifecycle {
    precondition {
      condition     = local.redis_rbac || (var.redis_auth_token != null && can(regex("^[^@\"/ ]{16,128}$", coalesce(var.redis_auth_token, "-"))))
      error_message = "redis_auth_token: required when existing_redis_url_secret_arn and redis_user_passwords are null; 16-128 characters without @, \", / or spaces."
    }
  }
}

resource "aws_secretsmanager_secret" "redis_url" {
  count                   = local.create_redis && !local.redis_rbac ? 1 : 0
  name                    = "${var.name}/redis-url"
  description             = "rediss:// (rediss+cluster:// in cluster mode) URL with AUTH token of the warmpool Redis"
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "redis_url" {
  count     = local.create_redis && !local.redis_rbac ? 1 : 0
  secret_id = aws_secretsmanager_secret.redis_url[0].id
  secret_string = format(
    "%s://:%s@%s:%d",
    local.redis_scheme,
    urlencode(var.redis_auth_token),
    local.redis_address,
    aws_elasticache_replication_group.redis[0].port,
  )
}

# --- least-privilege Redis: one ElastiCache RBAC user per process role -----------------------------
# Access strings come from pkg/redis/acl.ts through the generated redis-acl.auto.tf (docs/redis-acl.md):
# each role may run only the commands it needs on its own pool's keys. ElastiCache requires a user
# named "default" in every group; ours is switched off. Each role's URL (user and password) is its
# own secret, so a process can read only its own credentials (IAM in iam.tf).

variable "redis_user_passwords" {
  description = "Passwords of the Redis ACL users (keys: reconciler, gateway, bridge, ctl; 16-128 characters without @ \" / or spaces). When set, ElastiCache runs with RBAC users instead of the AUTH token."
  type        = map(string)
  default     = null
  sensitive   = true

  validation {
    condition = var.redis_user_passwords == null || (
      length(setsubtract(["reconciler", "gateway", "bridge", "ctl"], keys(coalesce(var.redis_user_passwords, {})))) == 0 &&
      alltrue([for p in values(coalesce(var.redis_user_passwords, {})) : can(regex("^[^@\"/ ]{16,128}$", p))])
    )
    error_message = "redis_user_passwords: give reconciler, gateway, bridge and ctl, each 16-128 characters without @, \", / or spaces."
  }
}

variable "redis_acl_selectors" {
  description = "Use Redis 7 ACL selectors (a command bound to its keys). Set false for an engine that refuses them: every role then gets the union of its grants."
  type        = bool
  default     = true
}

variable "redis_acl_all_pools" {
  description = "Grant the reconciler, gateway and ctl users every pool's keys (wp:{*}:…) instead of this module's pool only: one control plane serving many pools (reconciler --all-pools, the gateway's /v1/pools/{pool}/… routes, ctl status over every pool). The bridge user stays confined to its pool."
  type        = bool
  default     = false
}

locals {
  redis_rbac  = local.create_redis && nonsensitive(var.redis_user_passwords != null) # whether, not what: for_each needs it plain
  redis_roles = local.redis_rbac ? toset(["reconciler", "gateway", "bridge", "ctl"]) : toset([])
  redis_access = {
    for r, a in(var.redis_acl_selectors ? local.redis_acl_access : local.redis_acl_access_flat) :
    r => replace(a, local.redis_acl_pool_placeholder, var.redis_acl_all_pools && r != "bridge" ? "*" : local.pool)
  }
  # The secret holding each role's Redis URL: its own with RBAC, the shared one otherwise.
  redis_secret_arns = local.redis_rbac ? {
    reconciler = aws_secretsmanager_secret.redis_role_url["reconciler"].arn
    gateway    = aws_secretsmanager_secret.redis_role_url["gateway"].arn
    bridge     = aws_secretsmanager_secret.redis_role_url["bridge"].arn
    ctl        = aws_secretsmanager_secret.redis_role_url["ctl"].arn
    } : {
    reconciler = local.redis_secret_arn
    gateway    = local.redis_secret_arn
    bridge     = local.redis_secret_arn
    ctl        = local.redis_secret_arn
  }
  # What the control services' execution role may read: the reconciler's and the gateway's URLs.
  redis_control_secret_arns = local.redis_rbac ? [local.redis_secret_arns["reconciler"], local.redis_secret_arns["gateway"]] : [local.redis_secret_arn]
}

output "redis_url_secret_arns" {
  description = "Secret holding each role's Redis URL (its own ACL user with RBAC; one shared secret otherwise)."
  value       = local.redis_secret_arns
}

resource "aws_elasticache_user" "default" {
  count         = local.redis_rbac ? 1 : 0
  user_id       = "${var.name}-default"
  user_name     = "default"
  engine        = "REDIS"
  access_string = "off -@all"
  authentication_mode {
    type = "no-password-required"
  }
  tags = local.tags
}

resource "aws_elasticache_user" "role" {
  for_each      = local.redis_roles
  user_id       = "${var.name}-${each.key}"
  user_name     = local.redis_acl_users[each.key]
  engine        = "REDIS"
  access_string = local.redis_access[each.key]
  authentication_mode {
    type      = "password"
    passwords = [var.redis_user_passwords[each.key]]
  }
  tags = local.tags
}

resource "aws_elasticache_user_group" "redis" {
  count         = local.redis_rbac ? 1 : 0
  user_group_id = "${var.name}-redis"
  engine        = "REDIS"
  user_ids      = concat([aws_elasticache_user.default[0].user_id], [for r in local.redis_roles : aws_elasticache_user.role[r].user_id])
  tags          = local.tags
}

resource "aws_secretsmanager_secret" "redis_role_url" {
  for_each                = local.redis_roles
  name                    = "${var.name}/redis-url/${each.key}"
  description             = "rediss:// (rediss+cluster:// in cluster mode) URL of the warmpool Redis as its ${each.key} ACL user"
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "redis_role_url" {
  for_each  = local.redis_roles
  secret_id = aws_secretsmanager_secret.redis_role_url[each.key].id
  secret_string = format(
    "%s://%s:%s@%s:%d",
    local.redis_scheme,
    urlencode(local.redis_acl_users[each.key]),
    urlencode(var.redis_user_passwords[each.key]),
    local.redis_address,
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
