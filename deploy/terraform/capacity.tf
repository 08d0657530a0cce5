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
  # ECS managed termination protection needs it: ECS decides which instance may go.
  protect_from_scale_in = true

  launch_template {
    id      = aws_launch_template.pool[0].id
    version = aws_launch_template.pool[0].latest_version
  }

  warm_pool {
    pool_state                  = "Hibernated"
    min_size                    = var.warm_instances_min
    max_group_prepared_capacity = var.warm_instances_max_prepared
    instance_reuse_policy {
      reuse_on_scale_in = true
    }
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage       = 90
      scale_in_protected_instances = "Refresh"
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
    # The capacity provider and the reconciler set the desired capacity.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "pool" {
  count = local.ec2 ? 1 : 0
  name  = local.capacity_provider

  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.pool[0].arn
    managed_termination_protection = "ENABLED"
    managed_draining               = "ENABLED"

    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = var.capacity_target_percent
      minimum_scaling_step_size = 1
      maximum_scaling_step_size = 10
    }
  }

  tags = local.tags
}
