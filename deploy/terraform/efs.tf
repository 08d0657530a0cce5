# The one shared EFS access point (DESIGN §1): every pool task mounts /workspaces/<env> as uid/gid
# 1000, and the bridge isolates users by directory (/mnt/efs/<userId>). Because no task needs its
# own access point, any task can serve any user, which is what lets tasks be pre-warmed.

resource "aws_efs_file_system" "workspaces" {
  creation_token   = "${var.name}-workspaces"
  encrypted        = true
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"

  lifecycle_policy {
    transition_to_ia = "AFTER_30_DAYS"
  }

  tags = merge(local.tags, { Name = "${var.name}-workspaces" })
}

resource "aws_efs_mount_target" "workspaces" {
  for_each        = toset(var.private_subnet_ids)
  file_system_id  = aws_efs_file_system.workspaces.id
  subnet_id       = each.value
  security_groups = [aws_security_group.efs.id]
}

resource "aws_efs_access_point" "workspaces" {
  file_system_id = aws_efs_file_system.workspaces.id

  # Every NFS operation through the access point runs as this user, whatever the container's uid.
  posix_user {
    uid = local.pool_uid
    gid = local.pool_gid
  }

  root_directory {
    path = local.workspace_root
    creation_info {
      owner_uid   = local.pool_uid
      owner_gid   = local.pool_gid
      permissions = "0755"
    }
  }

  tags = merge(local.tags, { Name = "${var.name}-workspaces-${var.environment}" })
}

# The file system refuses unencrypted transport and anyone but the pool task role through the
# shared access point; IAM authorization on the task's volume makes the role count.
data "aws_iam_policy_document" "efs" {
  statement {
    sid     = "PoolTasksThroughAccessPoint"
    effect  = "Allow"
    actions = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.pool_task.arn]
    }
    resources = [aws_efs_file_system.workspaces.arn]
    condition {
      test     = "StringEquals"
      variable = "elasticfilesystem:AccessPointArn"
      values   = [aws_efs_access_point.workspaces.arn]
    }
  }

  statement {
    sid       = "DenyUnencryptedTransport"
    effect    = "Deny"
    actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"]
    resources = [aws_efs_file_system.workspaces.arn]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_efs_file_system_policy" "workspaces" {
  file_system_id = aws_efs_file_system.workspaces.id
  policy         = data.aws_iam_policy_document.efs.json
}
