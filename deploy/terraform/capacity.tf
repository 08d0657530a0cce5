# The EC2 capacity tier (DESIGN §1): a launch template with slim user data, an Auto Scaling group
# whose warm pool keeps instances Hibernated (resume → InService in ~15 s), and an ECS capacity
# provider. Hibernation saves RAM to the root volume, so the volume is encrypted and large enough.

resource "aws_launch_template" "pool" {
  count       = local.ec2 ? 1 : 0
  name_prefix = "${var.name}-pool-"
  # Resolved at every launch, so a new golden AMI only needs the parameter updated (deploy/packer).
  image_id      = "resolve:ssm:${var.ami_ssm_parameter}"
  instance_type = var.instance_type

  user_data = base64encode(templatefile("${path.module}/templates/user-data.sh.tftpl", {
    cluster_name = local.cluster_name
    stop_timeout = var.stop_timeout_seconds
  }))

  iam_instance_profile {
    arn = aws_iam_instance_profile.instance[0].arn
  }

  vpc_security_group_ids = [aws_security_group.instances.id]

  hibernation_options {
    configured = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.root_volume_size_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.root_volume_kms_key_id
      delete_on_termination = true
    }
  }

  # IMDSv2 only, one hop: tasks get credentials from the ECS agent, never from the instance.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.tags, { Name = "${var.name}-pool" })
  }

  tags = local.tags
}

resource "aws_autoscaling_group" "pool" {
  count               = local.ec2 ? 1 : 0
  name                = local.asg_name
  min_size            = var.asg_min_size
  max_size            = var.asg_max_size
  vpc_zone_identifier = var.private_subnet_ids
  health_check_type   = "EC2"
  # New instances start protected; the reconciler protects every instance hosting a task and
  # unprotects empty ones only for a scale-in it asks for (docs/capacity.md), so Auto Scaling can
  # never pick an instance that hosts a session.
  protect_from_scale_in = true

  launch_template {
    id      = aws_launch_template.pool[0].id
    version = aws_launch_template.pool[0].latest_version
  }

  # The initial warm pool. From then on the reconciler sizes it (PutWarmPool) from the desired
  # state's `asg` block, hence ignore_changes below. No instance_reuse_policy: ECS-backed groups
  # may not reuse instances on scale-in.
  warm_pool {
    pool_state                  = "Hibernated"
    min_size                    = var.warm_instances_min
    max_group_prepared_capacity = var.warm_instances_max_prepared
  }

  # A new AMI replaces the warm pool and every unprotected instance; instances hosting tasks are
  # protected and left alone ("Ignore"), so no session is cut short. They go when they empty and
  # the reconciler scales in (docs/deploy.md, "New AMI").
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage       = 90
      scale_in_protected_instances = "Ignore"
    }
  }

  tag {
    key                 = "AmazonECSManaged"
    value               = "true"
    propagate_at_launch = true
  }

  dynamic "tag" {
    for_each = local.tags
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # The reconciler sets the desired capacity and sizes the warm pool.
    ignore_changes = [desired_capacity, warm_pool]
  }
}

resource "aws_ecs_capacity_provider" "pool" {
  count = local.ec2 ? 1 : 0
  name  = local.capacity_provider

  # The reconciler alone scales the group and protects instances (docs/capacity.md): ECS
  # managed scaling or termination protection would write the same settings and fight it.
  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.pool[0].arn
    managed_termination_protection = "DISABLED"
    managed_draining               = "ENABLED"

    managed_scaling {
      status = "DISABLED"
    }
  }

  tags = local.tags
}
