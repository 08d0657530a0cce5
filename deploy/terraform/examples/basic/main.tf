# A complete root module: one pool in an existing VPC, on a cluster created for it, with the EC2
# tier (hibernated warm pool) and a new ElastiCache group. Copy this folder, fill in
# terraform.tfvars (see terraform.tfvars.example) and follow docs/deploy.md.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = { "managed-by" = "terraform", "project" = "ecs-warmpool" }
  }
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "vpc_id" {
  description = "Existing VPC."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets in at least two AZs (with a NAT gateway or VPC endpoints)."
  type        = list(string)
}

variable "control_image" {
  description = "The warmpool image (reconciler + gateway), by digest."
  type        = string
}

variable "pool_image" {
  description = "Your agent image with the bridge added, by digest."
  type        = string
}

variable "redis_auth_token" {
  description = "ElastiCache AUTH token: openssl rand -hex 32."
  type        = string
  sensitive   = true
}

variable "gateway_tokens" {
  description = "Bearer tokens your session service presents to the gateway."
  type        = list(string)
  sensitive   = true
}

variable "session_client_security_group_ids" {
  description = "Security groups of the service that connects users to their claimed task."
  type        = list(string)
  default     = []
}

module "warmpool" {
  source = "../.."

  name        = "warmpool-demo"
  environment = "demo"

  vpc_id             = var.vpc_id
  private_subnet_ids = var.private_subnet_ids

  control_image = var.control_image
  pool_image    = var.pool_image
  agent_command = ["optima", "headless"]
  pool_cpu      = 1024
  pool_memory   = 2048

  # Four 2-GiB tasks per m6i.xlarge (16 GiB, ENI trunking on), one hibernated spare instance.
  instance_type      = "m6i.xlarge"
  asg_min_size       = 1
  asg_max_size       = 6
  warm_instances_min = 1

  redis_auth_token                  = var.redis_auth_token
  gateway_tokens                    = var.gateway_tokens
  session_client_security_group_ids = var.session_client_security_group_ids

  tags = { "cost-center" = "ai-shell" }
}

output "gateway_url" {
  value = module.warmpool.gateway_url
}

output "cluster_arn" {
  value = module.warmpool.cluster_arn
}

output "redis_url_secret_arn" {
  value = module.warmpool.redis_url_secret_arn
}

output "autoscaling_group_name" {
  value = module.warmpool.autoscaling_group_name
}

output "event_queue_url" {
  value = module.warmpool.event_queue_url
}
