# The pool task role's side of EFS root access: without elasticfilesystem:ClientRootAccess EFS
# squashes uid 0 to 65534, and the bridge could not create users' directories in the root-owned
# 0711 workspace root nor hand them to each user's UID. Only through the shared access point.

data "aws_iam_policy_document" "pool_task_efs_root" {
  statement {
    sid       = "BridgeRootOnTheSharedAccessPoint"
    actions   = ["elasticfilesystem:ClientRootAccess"]
    resources = [aws_efs_file_system.workspaces.arn]
    condition {
      test     = "StringEquals"
      variable = "elasticfilesystem:AccessPointArn"
      values   = [aws_efs_access_point.workspaces.arn]
    }
  }
}

resource "aws_iam_role_policy" "pool_task_efs_root" {
  name   = "efs-root-for-the-bridge"
  role   = aws_iam_role.pool_task.id
  policy = data.aws_iam_policy_document.pool_task_efs_root.json
}
