# ElastiCache cluster mode (redis_cluster_mode): the group runs shards × replicas with cluster mode
# enabled in its parameter group, and every process is given a rediss+cluster:// URL of the
# configuration endpoint (its own ACL user's with RBAC), which pkg/redis/connect.ts turns into a
# Redis Cluster client. Without it nothing changes: one primary, one replica, rediss:// of the
# primary endpoint. Planned and applied against a mock AWS provider: no account, no network.

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

override_resource {
  target = aws_elasticache_replication_group.redis[0]
  values = {
    arn                            = "arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:wp-test-redis"
    primary_endpoint_address       = "master.wp-test-redis.abc123.euw1.cache.amazonaws.com"
    configuration_endpoint_address = "clustercfg.wp-test-redis.abc123.euw1.cache.amazonaws.com"
  }
}

run "default_is_not_cluster_mode" {
  command = apply

  assert {
    condition     = aws_elasticache_replication_group.redis[0].cluster_mode == "disabled" && aws_elasticache_replication_group.redis[0].num_cache_clusters == 2
    error_message = "without redis_cluster_mode the group is one primary and one replica, cluster mode disabled"
  }
  assert {
    condition     = length([for p in aws_elasticache_parameter_group.redis[0].parameter : p if p.name == "cluster-enabled"]) == 0
    error_message = "without redis_cluster_mode the parameter group must not touch cluster-enabled"
  }
  assert {
    condition     = nonsensitive(aws_secretsmanager_secret_version.redis_url[0].secret_string) == "rediss://:0123456789abcdef0123456789abcdef@master.wp-test-redis.abc123.euw1.cache.amazonaws.com:6379"
    error_message = "without redis_cluster_mode the URL is rediss:// of the primary endpoint"
  }
}

run "cluster_mode_shards_and_replicas" {
  command = apply

  variables {
    redis_cluster_mode = { shards = 4, replicas_per_shard = 2 }
  }

  assert {
    condition     = aws_elasticache_replication_group.redis[0].cluster_mode == "enabled"
    error_message = "redis_cluster_mode must enable cluster mode on the group"
  }
  assert {
    condition     = aws_elasticache_replication_group.redis[0].num_node_groups == 4 && aws_elasticache_replication_group.redis[0].replicas_per_node_group == 2
    error_message = "the group must have redis_cluster_mode.shards node groups of replicas_per_shard replicas"
  }
  assert {
    condition     = aws_elasticache_replication_group.redis[0].automatic_failover_enabled && aws_elasticache_replication_group.redis[0].multi_az_enabled
    error_message = "in cluster mode a shard's replica takes over automatically, in another zone"
  }
  assert {
    condition     = [for p in aws_elasticache_parameter_group.redis[0].parameter : p.value if p.name == "cluster-enabled"] == ["yes"]
    error_message = "the parameter group must set cluster-enabled yes"
  }
  assert {
    condition     = [for p in aws_elasticache_parameter_group.redis[0].parameter : p.value if p.name == "notify-keyspace-events"] == ["K$g"]
    error_message = "keyspace notifications stay on in cluster mode"
  }
  assert {
    condition     = nonsensitive(aws_secretsmanager_secret_version.redis_url[0].secret_string) == "rediss+cluster://:0123456789abcdef0123456789abcdef@clustercfg.wp-test-redis.abc123.euw1.cache.amazonaws.com:6379"
    error_message = "in cluster mode every process gets rediss+cluster:// of the configuration endpoint"
  }
  # The tasks read that secret: the URL reaches every process as WARMPOOL_REDIS_URL.
  assert {
    condition = alltrue([
      for td in [aws_ecs_task_definition.reconciler, aws_ecs_task_definition.gateway, aws_ecs_task_definition.pool] :
      contains([for s in jsondecode(td.container_definitions)[0].secrets : s.valueFrom if s.name == "WARMPOOL_REDIS_URL"], aws_secretsmanager_secret.redis_url[0].arn)
    ])
    error_message = "the reconciler, gateway and pool tasks must read the cluster URL's secret as WARMPOOL_REDIS_URL"
  }
}

run "cluster_mode_with_acl_users" {
  command = apply

  variables {
    redis_cluster_mode = {}
    redis_user_passwords = {
      reconciler = "reconciler-0123456789abcdef"
      gateway    = "gateway-0123456789abcdef"
      bridge     = "bridge-0123456789abcdef"
      ctl        = "ctl-0123456789abcdef"
    }
  }

  assert {
    condition     = aws_elasticache_replication_group.redis[0].num_node_groups == 3 && aws_elasticache_replication_group.redis[0].replicas_per_node_group == 1
    error_message = "redis_cluster_mode = {} means 3 shards of one replica each"
  }
  assert {
    condition = alltrue([
      for r in ["reconciler", "gateway", "bridge", "ctl"] :
      startswith(nonsensitive(aws_secretsmanager_secret_version.redis_role_url[r].secret_string), "rediss+cluster://warmpool-${r}:") &&
      endswith(nonsensitive(aws_secretsmanager_secret_version.redis_role_url[r].secret_string), "@clustercfg.wp-test-redis.abc123.euw1.cache.amazonaws.com:6379")
    ])
    error_message = "each role's URL must name its ACL user and the configuration endpoint with rediss+cluster://"
  }
  # A Redis Cluster client reads the slot map with CLUSTER SLOTS: every role may.
  assert {
    condition     = alltrue([for r in ["reconciler", "gateway", "bridge", "ctl"] : strcontains(aws_elasticache_user.role[r].access_string, "+cluster|slots")])
    error_message = "every role's access string must grant CLUSTER SLOTS"
  }
}

run "cluster_mode_refuses_a_shard_without_replica" {
  command = plan

  variables {
    redis_cluster_mode = { shards = 3, replicas_per_shard = 0 }
  }

  expect_failures = [var.redis_cluster_mode]
}

run "cluster_mode_refuses_zero_shards" {
  command = plan

  variables {
    redis_cluster_mode = { shards = 0 }
  }

  expect_failures = [var.redis_cluster_mode]
}

run "control_plane_users_for_every_pool" {
  command = apply

  variables {
    redis_acl_all_pools = true
    redis_user_passwords = {
      reconciler = "reconciler-0123456789abcdef"
      gateway    = "gateway-0123456789abcdef"
      bridge     = "bridge-0123456789abcdef"
      ctl        = "ctl-0123456789abcdef"
    }
  }

  assert {
    condition = alltrue([
      for r in ["reconciler", "gateway", "ctl"] :
      strcontains(aws_elasticache_user.role[r].access_string, "~wp:{*}:claims") && !strcontains(aws_elasticache_user.role[r].access_string, "wp:{wp-test}:")
    ])
    error_message = "with redis_acl_all_pools the control-plane users must reach every pool's keys (wp:{*}:…)"
  }
  # The gateway looks pools up in the registry (GET /v1/pools/{pool}/…).
  assert {
    condition     = strcontains(aws_elasticache_user.role["gateway"].access_string, "%R~wp:pools")
    error_message = "the gateway user must read the pool registry"
  }
  assert {
    condition     = strcontains(aws_elasticache_user.role["bridge"].access_string, "~wp:{wp-test}:warm") && !strcontains(aws_elasticache_user.role["bridge"].access_string, "wp:{*}")
    error_message = "the bridge user stays confined to its own pool"
  }
}
