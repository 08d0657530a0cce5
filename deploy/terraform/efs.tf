# The one shared EFS access point (DESIGN §1): every pool task mounts /workspaces/<env>, and any task
# can serve any user, which is what lets tasks be pre-warmed. Users are kept apart by the
# filesystem itself (docs/security.md): the access point forces no POSIX user, so each NFS call
# carries the caller's own uid; the root is root-owned 0711; the bridge (root in the task, allowed
# root access by IAM, see efs-iam.tf) creates /mnt/efs/<userId> 0700, owned by that user's UID
# (base + n, recorded under /mnt/efs/.warmpool-uids), and runs the agent as that UID.

locals {
  # User n runs as UID/GID user_uid_base + n (`warmpool bridge --uid-base`).
  user_uid_base = 100000
  # Docker's default capabilities minus the four the bridge needs (CHOWN, KILL, SETGID, SETUID).
  # Fargate only lets a task definition *add* SYS_PTRACE, so the same drop list (never "ALL" + add)
  # is used on Fargate and EC2 alike; the agent gets none of these in any case (a switch from uid
  # 0 clears every capability, and no_new_privs keeps setuid binaries from giving them back).
  bridge_dropped_capabilities = [
    "AUDIT_WRITE", "DAC_OVERRIDE", "FOWNER", "FSETID", "MKNOD", "NET_BIND_SERVICE", "NET_RAW",
    "SETFCAP", "SETPCAP", "SYS_CHROOT",
  ]
}

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

  # No posix_user: NFS calls keep the caller's uid, so the kernel on EFS enforces each user's 0700
  # directory. The root is root's and 0711: users pass through to their own directory but cannot
  # list, create, rename or link entries beside it.
  root_directory {
    path = local.workspace_root
    creation_info {
      owner_uid   = 0
      owner_gid   = 0
      permissions = "0711"
    }
  }

  tags = merge(local.tags, { Name = "${var.name}-workspaces-${var.environment}" })
}

# The file system refuses unencrypted transport and anyone but the pool task role through the
# shared access point; IAM authorization on the task's volume makes the role count. Root access
# (no root squashing) is granted to that role only: the bridge, root in its container, must create
# and chown users' directories. Agents never hold uid 0 or a capability (docs/security.md).
data "aws_iam_policy_document" "efs" {
  statement {
    sid     = "PoolTasksThroughAccessPoint"
    effect  = "Allow"
    actions = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"]
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
