# Inputs. Infrastructure that on-call does not tune lives here; pool sizing (minWarm, maxWarm, …)
# lives in Redis as the desired state and is changed with `warmpool ctl`, not with Terraform.

variable "name" {
  description = "Prefix for every resource this module names, e.g. \"warmpool-prod\"."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,27}$", var.name))
    error_message = "name: 2-28 characters, lower-case letters, digits and '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment label; the shared EFS access point is rooted at /workspaces/<environment>."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{0,31}$", var.environment))
    error_message = "environment: 1-32 characters of [a-z0-9_-], so it is safe as a directory name."
  }
}

variable "pool" {
  description = "Pool name (the Redis key tag wp:{<pool>}: and the RunTask startedBy). Defaults to name."
  type        = string
  default     = null
  validation {
    condition     = var.pool == null || can(regex("^[A-Za-z0-9_-]{1,36}$", coalesce(var.pool, "x")))
    error_message = "pool: 1-36 characters of [A-Za-z0-9_-] (ECS limits startedBy to 36 characters)."
  }
}

variable "region" {
  description = "AWS region the processes call; the provider's region when null."
  type        = string
  default     = null
}

# --- network -----------------------------------------------------------------------------------

variable "vpc_id" {
  description = "Existing VPC."
  type        = string
}

variable "private_subnet_ids" {
  description = "Existing private subnets (at least two AZs): tasks, instances, EFS, Redis."
  type        = list(string)
  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids: give at least two subnets in different availability zones."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets for an internet-facing gateway load balancer; unused when gateway_internal."
  type        = list(string)
  default     = []
}

variable "assign_public_ip" {
  description = "Give tasks a public IP (only for subnets without a NAT gateway)."
  type        = bool
  default     = false
}

variable "session_client_security_group_ids" {
  description = "Security groups of whatever connects to a claimed task's bridge endpoint."
  type        = list(string)
  default     = []
}

variable "session_client_cidrs" {
  description = "CIDR blocks allowed to connect to a claimed task's bridge endpoint."
  type        = list(string)
  default     = []
}

variable "metrics_scraper_cidrs" {
  description = "CIDR blocks allowed to scrape the reconciler's and the gateway's /metrics."
  type        = list(string)
  default     = []
}

# --- cluster and capacity ----------------------------------------------------------------------

variable "existing_cluster_arn" {
  description = "Run in this ECS cluster instead of creating one."
  type        = string
  default     = null
}

variable "capacity" {
  description = "Where pool tasks run: \"ec2\" (ASG with a hibernated warm pool) or \"fargate\"."
  type        = string
  default     = "ec2"
  validation {
    condition     = contains(["ec2", "fargate"], var.capacity)
    error_message = "capacity: must be \"ec2\" or \"fargate\"."
  }
}

variable "manage_cluster_capacity_providers" {
  description = "Attach the capacity providers to the cluster (replaces the cluster's list; off for a shared existing cluster)."
  type        = bool
  default     = null
}

variable "instance_type" {
  description = "One instance type (warm pools cannot use mixed instances); must support hibernation."
  type        = string
  default     = "m6i.xlarge"
}

variable "ami_ssm_parameter" {
  description = "SSM parameter holding the AMI id, resolved at launch; point it at the golden AMI parameter once built."
  type        = string
  default     = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
}

variable "root_volume_size_gb" {
  description = "Encrypted root volume; hibernation stores RAM on it, so it must exceed the instance's memory plus the AMI."
  type        = number
  default     = 60
}

variable "root_volume_kms_key_id" {
  description = "KMS key for the root volume; the account's default EBS key when null."
  type        = string
  default     = null
}

variable "asg_min_size" {
  description = "Minimum InService instances."
  type        = number
  default     = 1
}

variable "asg_max_size" {
  description = "Maximum InService instances (cost ceiling of the EC2 tier)."
  type        = number
  default     = 10
}

variable "warm_instances_min" {
  description = "Hibernated instances kept in the ASG warm pool."
  type        = number
  default     = 1
}

variable "warm_instances_max_prepared" {
  description = "Ceiling of InService + warm-pool instances; null lets the ASG use max_size."
  type        = number
  default     = null
}

# --- images and the pool task ------------------------------------------------------------------

variable "control_image" {
  description = "Image of the reconciler and the gateway (deploy/docker/Dockerfile), by digest or immutable tag."
  type        = string
}

variable "pool_image" {
  description = "Agent image with the bridge added (deploy/docker/bridge.Dockerfile)."
  type        = string
}

variable "agent_command" {
  description = "The agent's command, started by the bridge once a user is assigned."
  type        = list(string)
  validation {
    condition     = length(var.agent_command) > 0
    error_message = "agent_command: give the agent's argv, e.g. [\"optima\", \"headless\"]."
  }
}

variable "pool_cpu" {
  description = "CPU units of one pool task."
  type        = number
  default     = 1024
}

variable "pool_memory" {
  description = "Memory (MiB) of one pool task."
  type        = number
  default     = 2048
}

variable "bridge_port" {
  description = "Port the bridge serves a claimed session on."
  type        = number
  default     = 7070
}

variable "stop_timeout_seconds" {
  description = "Time between SIGTERM and SIGKILL, so the bridge can drain a session (ECS caps it at 120)."
  type        = number
  default     = 120
  validation {
    condition     = var.stop_timeout_seconds >= 10 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds: between 10 and 120."
  }
}

variable "extra_pool_environment" {
  description = "Extra plain environment for the pool container (no secrets here). The agent starts with a clean environment; see the bridge's --agent-env."
  type        = map(string)
  default     = {}
}

# --- control plane -----------------------------------------------------------------------------

variable "metrics_port" {
  description = "Port of /metrics of every control-plane process (reconciler and gateway), apart from the gateway's API."
  type        = number
  default     = 9464
}

variable "gateway_port" {
  description = "Port the gateway listens on."
  type        = number
  default     = 8080
}

variable "gateway_desired_count" {
  description = "Gateway replicas (stateless; Redis holds every claim)."
  type        = number
  default     = 2
}

variable "gateway_internal" {
  description = "Internal load balancer (the usual case: the session service calls the gateway)."
  type        = bool
  default     = true
}

variable "gateway_ingress_cidrs" {
  description = "CIDR blocks allowed to reach the gateway load balancer."
  type        = list(string)
  default     = []
}

variable "gateway_certificate_arn" {
  description = "ACM certificate for an HTTPS listener; plain HTTP (port 80) when null."
  type        = string
  default     = null
}

variable "gateway_idle_timeout_seconds" {
  description = "Load balancer idle timeout; keep it above the longest claim wait the gateway allows (--max-wait-ms)."
  type        = number
  default     = 330
}

variable "gateway_tokens" {
  description = "Bearer tokens the gateway accepts; stored in Secrets Manager. Ignored when gateway_tokens_secret_arn is set."
  type        = list(string)
  default     = []
  sensitive   = true
}

variable "gateway_tokens_secret_arn" {
  description = "Existing secret whose value is the gateway's comma-separated bearer tokens."
  type        = string
  default     = null
}

# --- Redis -------------------------------------------------------------------------------------

variable "existing_redis_url_secret_arn" {
  description = "Use an existing Redis: a Secrets Manager secret whose value is its URL (rediss://:token@host:port, or rediss+cluster://:token@host:port[,host:port…] for a Redis Cluster). Creates ElastiCache when null."
  type        = string
  default     = null
}

variable "redis_auth_token" {
  description = "AUTH token of the ElastiCache group created here (16-128 printable characters, no @ \" /)."
  type        = string
  default     = null
  sensitive   = true
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "redis_engine_version" {
  description = "ElastiCache Redis OSS engine version."
  type        = string
  default     = "7.1"
}

variable "redis_cluster_mode" {
  description = "Run the ElastiCache group created here in cluster mode (Redis Cluster): the pools' keys spread over `shards` node groups by their hash tag `{pool}`, each with `replicas_per_shard` replicas. The processes then get a rediss+cluster:// URL (pkg/redis/connect.ts). Null: one primary and one replica (cluster mode disabled). Switching an existing deployment is not an in-place change: plan it as a new Redis (its state, live claims included, does not move)."
  type = object({
    shards             = optional(number, 3)
    replicas_per_shard = optional(number, 1)
  })
  default = null

  validation {
    condition = var.redis_cluster_mode == null || (
      try(var.redis_cluster_mode.shards >= 1 && var.redis_cluster_mode.shards <= 500 && floor(var.redis_cluster_mode.shards) == var.redis_cluster_mode.shards, false) &&
      try(var.redis_cluster_mode.replicas_per_shard >= 1 && var.redis_cluster_mode.replicas_per_shard <= 5 && floor(var.redis_cluster_mode.replicas_per_shard) == var.redis_cluster_mode.replicas_per_shard, false)
    )
    error_message = "redis_cluster_mode: shards must be a whole number 1-500 and replicas_per_shard 1-5 (a replica per shard is what fails over)."
  }
}

# --- the rest ----------------------------------------------------------------------------------

variable "log_retention_days" {
  description = "CloudWatch log retention."
  type        = number
  default     = 30
}

variable "container_insights" {
  description = "Enable Container Insights on a cluster created here."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

# --- the event feed (events.tf) ------------------------------------------------------------------

variable "event_feed" {
  description = "Create the EventBridge rule and SQS queue that feed the reconciler ECS task state changes. Off, the reconciler works from Redis and paced relists."
  type        = bool
  default     = true
}

variable "event_queue_retention_seconds" {
  description = "How long an undelivered event stays in the feed queue (SQS: 60 s to 14 days)."
  type        = number
  default     = 86400
  validation {
    condition     = var.event_queue_retention_seconds >= 60 && var.event_queue_retention_seconds <= 1209600
    error_message = "event_queue_retention_seconds must be between 60 and 1209600 (SQS's limits)."
  }
}

variable "event_queue_visibility_timeout_seconds" {
  description = "How long a received event stays hidden before another receive may take it again."
  type        = number
  default     = 30
  validation {
    condition     = var.event_queue_visibility_timeout_seconds >= 0 && var.event_queue_visibility_timeout_seconds <= 43200
    error_message = "event_queue_visibility_timeout_seconds must be between 0 and 43200 (SQS's limits)."
  }
}

variable "event_queue_max_receive_count" {
  description = "Receives of one event before it moves to the dead-letter queue."
  type        = number
  default     = 5
  validation {
    condition     = var.event_queue_max_receive_count >= 1 && var.event_queue_max_receive_count <= 1000
    error_message = "event_queue_max_receive_count must be between 1 and 1000."
  }
}
