# The golden AMI for the pool's EC2 tier: the ECS-optimised Amazon Linux 2023 image with the pool
# image already pulled, a baseline ecs.config, EBS pre-warm at first boot and a trimmed
# cloud-init, so a cold instance is serving in 60–90 s instead of ~180 s (DESIGN §1).
#
# No required_plugins block, so Debian's Packer 1.6 can validate the template offline; CI installs
# the pinned Amazon plugin with `packer plugins install` before building (.github/workflows/ami.yml).
# It also keeps to the amazon-ebs arguments Packer 1.6 knows, so `packer validate` checks them all
# offline; IMDSv2 is enforced where instances run, by the Terraform module's launch template.
#
#   packer build -var region=eu-west-1 -var pool_image=<registry>/agent-warmpool@sha256:… deploy/packer

variable "region" {
  type        = string
  description = "Region to build in (the AMI is regional)."
}

variable "pool_image" {
  type        = string
  description = "The pool task's image, by digest, pulled into the AMI so tasks start from the cache."
}

variable "ecr_registry" {
  type        = string
  default     = ""
  description = "ECR registry host of pool_image (<account>.dkr.ecr.<region>.amazonaws.com); empty for a public image."
}

variable "instance_type" {
  type        = string
  default     = "m6i.large"
  description = "Build instance type (same architecture as the pool's instances)."
}

variable "iam_instance_profile" {
  type        = string
  default     = ""
  description = "Instance profile of the build instance; it needs ECR pull for pool_image."
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Subnet for the build instance; the default VPC when empty."
}

variable "root_volume_size_gb" {
  type        = number
  default     = 60
  description = "Root volume; keep it equal to the Terraform module's root_volume_size_gb."
}

variable "ami_name_prefix" {
  type        = string
  default     = "warmpool-ecs-al2023"
  description = "AMI name prefix; a timestamp is appended."
}

source "amazon-ebs" "ecs_al2023" {
  region               = var.region
  instance_type        = var.instance_type
  iam_instance_profile = var.iam_instance_profile
  subnet_id            = var.subnet_id
  ssh_username         = "ec2-user"
  ami_name             = "${var.ami_name_prefix}-${formatdate("YYYYMMDD-hhmmss", timestamp())}"
  ami_description      = "ECS-optimised AL2023 with ${var.pool_image} pre-pulled"
  encrypt_boot         = true

  source_ami_filter {
    filters = {
      name                = "al2023-ami-ecs-hvm-*-kernel-6.1-x86_64"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = var.root_volume_size_gb
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    encrypted             = true
    delete_on_termination = true
  }

  tags = {
    "warmpool:pool-image" = var.pool_image
    "warmpool:source-ami" = "{{ .SourceAMI }}"
  }
}

build {
  sources = ["source.amazon-ebs.ecs_al2023"]

  provisioner "file" {
    source      = "${path.root}/files/ecs.config"
    destination = "/tmp/ecs.config"
  }

  provisioner "file" {
    source      = "${path.root}/files/warmpool-prewarm.service"
    destination = "/tmp/warmpool-prewarm.service"
  }

  provisioner "file" {
    source      = "${path.root}/files/99-warmpool.cfg"
    destination = "/tmp/99-warmpool.cfg"
  }

  provisioner "shell" {
    environment_vars = [
      "POOL_IMAGE=${var.pool_image}",
      "ECR_REGISTRY=${var.ecr_registry}",
      "AWS_REGION=${var.region}",
    ]
    execute_command = "sudo -E bash -euo pipefail '{{ .Path }}'"
    scripts = [
      "${path.root}/scripts/ecs-config.sh",
      "${path.root}/scripts/pre-pull.sh",
      "${path.root}/scripts/trim-cloud-init.sh",
      "${path.root}/scripts/cleanup.sh",
    ]
  }

  post-processor "manifest" {
    output     = "packer-manifest.json"
    strip_path = true
  }
}
