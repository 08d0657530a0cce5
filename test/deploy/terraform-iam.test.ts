/**
 * Least privilege, as Terraform itself evaluates the module's policy documents:
 * deploy/terraform/tests/iam.tftest.hcl (run by real `terraform test` on a mock AWS provider)
 * holds the reconciler to exactly the actions and resources the reconcile pass needs, the
 * gateway to no task role, the execution roles to their own secrets. Here it runs on the module
 * as committed, then on copies widened one way each, where it must fail naming what broke.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { terraformCopy, type TerraformCopy } from "./terraform.js";

let tf: TerraformCopy;
beforeAll(() => {
  tf = terraformCopy();
}, 120_000);
afterAll(() => tf?.remove());

const iamTest = (): { code: number; out: string } => tf.run(["test", "-filter=tests/iam.tftest.hcl"]);

/** Runs the IAM tests with `file` edited by `edit`, then restores it. */
function withEdit(file: string, edit: (text: string) => string): { code: number; out: string } {
  const path = join(tf.dir, file);
  const original = readFileSync(path, "utf8");
  const changed = edit(original);
  expect(changed, `the edit of ${file} changed nothing`).not.toBe(original);
  writeFileSync(path, changed);
  try {
    return iamTest();
  } finally {
    writeFileSync(path, original);
  }
}

describe("IAM policies in deploy/terraform (terraform test)", () => {
  it("pass on the module as committed", () => {
    const r = iamTest();
    expect(r.out).toMatch(/Success! 3 passed, 0 failed/);
    expect(r.code).toBe(0);
  }, 120_000);

  it.each([
    [
      "RunTask on any task definition",
      "iam.tf",
      (t: string) => t.replace("resources = [local.pool_task_definition_arns]", 'resources = ["*"]'),
      /RunTask must be limited to the pool's task-definition family/,
    ],
    [
      "a wildcard action",
      "iam.tf",
      (t: string) => t.replace('actions   = ["ecs:DescribeTaskDefinition"]', 'actions   = ["ecs:Describe*"]'),
      /a policy allows a wildcard action/,
    ],
    [
      "a task role on the gateway",
      "task-definitions.tf",
      (t: string) =>
        t.replace(
          '  family                   = "${var.name}-gateway"',
          '  family                   = "${var.name}-gateway"\n  task_role_arn            = aws_iam_role.reconciler_task.arn',
        ),
      /the gateway task must have no task role/,
    ],
  ])(
    "fail on a copy with %s",
    (_what, file, edit, message) => {
      const r = withEdit(file, edit);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(message);
    },
    120_000,
  );
});
