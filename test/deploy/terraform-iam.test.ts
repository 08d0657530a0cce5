/**
 * Least privilege, read from the module's own policy documents: only the reconciler calls AWS,
 * and only for what it does (DESIGN §2, §6). docs/deploy.md carries the same table for humans.
 */
import { describe, expect, it } from "vitest";
import { ACCOUNT, REGION, evaluate, tfModule } from "./fixtures.js";
import { spell } from "./hcl/index.js";
import { policyStatements, type Statement } from "./terraform-module.js";

const byAction = (stmts: Statement[], action: string): Statement[] =>
  stmts.filter((s) => s.actions.includes(action));
const actionsOf = (stmts: Statement[]): string[] => stmts.flatMap((s) => s.actions).sort();
const cond = (s: Statement, variable: string) => s.conditions.find((c) => c.variable === variable);

/** Actions AWS authorizes against no resource, so "*" is the only resource they accept. */
const NO_RESOURCE_LEVEL = new Set([
  "ecs:ListTasks",
  "ecs:DescribeTaskDefinition",
  "autoscaling:DescribeAutoScalingGroups",
  "autoscaling:DescribeWarmPool",
  "ecr:GetAuthorizationToken",
]);

describe("IAM policies in deploy/terraform", () => {
  const m = evaluate();
  const docs = [...tfModule().data.keys()].filter((k) => k.startsWith("aws_iam_policy_document."));

  it("no statement in any policy document allows a wildcard action", () => {
    expect(docs.length).toBeGreaterThanOrEqual(6);
    for (const d of docs) {
      for (const s of policyStatements(m, d.split(".")[1]!)) {
        for (const a of s.actions) {
          expect(a, `${d} ${s.sid}`).not.toBe("*");
          expect(a, `${d} ${s.sid}`).not.toMatch(/:\*$/);
        }
        if (s.effect === "Allow" && s.resources.includes("*")) {
          for (const a of s.actions)
            expect(NO_RESOURCE_LEVEL.has(a), `${d} ${s.sid}: ${a} on "*"`).toBe(true);
        }
      }
    }
  });

  it("the reconciler may do exactly what the reconcile pass needs, nothing more", () => {
    expect(actionsOf(policyStatements(m, "reconciler"))).toEqual([
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeWarmPool",
      "autoscaling:PutWarmPool",
      "autoscaling:SetDesiredCapacity",
      "autoscaling:SetInstanceProtection",
      "ecs:DescribeContainerInstances",
      "ecs:DescribeTaskDefinition",
      "ecs:DescribeTasks",
      "ecs:ListContainerInstances",
      "ecs:ListTasks",
      "ecs:RunTask",
      "ecs:StopTask",
      "ecs:TagResource",
      "iam:PassRole",
    ]);
  });

  it("RunTask only for the pool's task-definition family, only on the pool's cluster", () => {
    const [run, ...more] = byAction(policyStatements(m, "reconciler"), "ecs:RunTask");
    expect(more).toEqual([]);
    expect(run!.resources).toEqual([`arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/demo-pool:*`]);
    expect(cond(run!, "ecs:cluster")).toEqual({
      test: "ArnEquals",
      variable: "ecs:cluster",
      values: ["${aws_ecs_cluster.this[0].arn}"],
    });
  });

  it("StopTask, DescribeTasks and ListTasks only within the cluster (ecs:cluster condition)", () => {
    const stmts = policyStatements(m, "reconciler");
    for (const action of ["ecs:StopTask", "ecs:DescribeTasks", "ecs:ListTasks"]) {
      const [s, ...more] = byAction(stmts, action);
      expect(more, action).toEqual([]);
      expect(cond(s!, "ecs:cluster")?.values, action).toEqual(["${aws_ecs_cluster.this[0].arn}"]);
      if (action !== "ecs:ListTasks") {
        expect(s!.resources).toEqual([
          `arn:aws:ecs:${REGION}:${ACCOUNT}:task/\${aws_ecs_cluster.this[0].name}/*`,
        ]);
      }
    }
  });

  it("with an existing cluster, the task ARNs and the condition name that cluster", () => {
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/shared`;
    const stmts = policyStatements(evaluate({ existing_cluster_arn: arn }), "reconciler");
    const stop = byAction(stmts, "ecs:StopTask")[0]!;
    expect(stop.resources).toEqual([`arn:aws:ecs:${REGION}:${ACCOUNT}:task/shared/*`]);
    const clusterScoped = ["ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks", "ecs:ListTasks"];
    for (const s of stmts.filter((x) => x.actions.some((a) => clusterScoped.includes(a)))) {
      expect(cond(s, "ecs:cluster")?.values, s.sid).toEqual([arn]);
    }
  });

  it("tags may be written only as part of RunTask", () => {
    const [tag] = byAction(policyStatements(m, "reconciler"), "ecs:TagResource");
    expect(cond(tag!, "ecs:CreateAction")?.values).toEqual(["RunTask"]);
  });

  it("iam:PassRole only for the pool's task and execution roles, only to ECS tasks", () => {
    const [pass, ...more] = byAction(policyStatements(m, "reconciler"), "iam:PassRole");
    expect(more).toEqual([]);
    expect(pass!.resources.sort()).toEqual([
      "${aws_iam_role.pool_execution.arn}",
      "${aws_iam_role.pool_task.arn}",
    ]);
    expect(cond(pass!, "iam:PassedToService")?.values).toEqual(["ecs-tasks.amazonaws.com"]);
  });

  it("PutWarmPool, SetDesiredCapacity and SetInstanceProtection only on the named group", () => {
    const stmts = policyStatements(m, "reconciler");
    const writes = stmts.filter((s) => s.actions.some((a) => /^autoscaling:(Put|Set)/.test(a)));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.actions.sort()).toEqual([
      "autoscaling:PutWarmPool",
      "autoscaling:SetDesiredCapacity",
      "autoscaling:SetInstanceProtection",
    ]);
    expect(writes[0]!.resources).toEqual([
      `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/demo-pool`,
    ]);
    expect(writes[0]!.conditions).toEqual([]);
    const asg = m.one("aws_autoscaling_group.pool");
    expect(asg["name"]).toBe("demo-pool");
  });

  it("Describe* on Auto Scaling are the two specific actions, nothing wider", () => {
    const stmts = policyStatements(m, "reconciler");
    const reads = stmts.filter((s) => s.actions.some((a) => /^autoscaling:Describe/.test(a)));
    expect(reads).toHaveLength(1);
    expect(reads[0]!.actions.sort()).toEqual([
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeWarmPool",
    ]);
  });

  it("ListContainerInstances on the cluster; DescribeContainerInstances on its container instances only", () => {
    const stmts = policyStatements(m, "reconciler");
    const [list, ...moreList] = byAction(stmts, "ecs:ListContainerInstances");
    expect(moreList).toEqual([]);
    expect(list!.actions).toEqual(["ecs:ListContainerInstances"]);
    expect(list!.resources).toEqual(["${aws_ecs_cluster.this[0].arn}"]);
    const [desc, ...moreDesc] = byAction(stmts, "ecs:DescribeContainerInstances");
    expect(moreDesc).toEqual([]);
    expect(desc!.actions).toEqual(["ecs:DescribeContainerInstances"]);
    expect(desc!.resources).toEqual([
      `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/\${aws_ecs_cluster.this[0].name}/*`,
    ]);
    expect(cond(desc!, "ecs:cluster")).toEqual({
      test: "ArnEquals",
      variable: "ecs:cluster",
      values: ["${aws_ecs_cluster.this[0].arn}"],
    });

    // An existing cluster: both name it.
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/shared`;
    const ext = policyStatements(evaluate({ existing_cluster_arn: arn }), "reconciler");
    expect(byAction(ext, "ecs:ListContainerInstances")[0]!.resources).toEqual([arn]);
    const d = byAction(ext, "ecs:DescribeContainerInstances")[0]!;
    expect(d.resources).toEqual([`arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/shared/*`]);
    expect(cond(d, "ecs:cluster")?.values).toEqual([arn]);
  });

  it("on Fargate the reconciler gets no Auto Scaling or container-instance permission at all", () => {
    const stmts = policyStatements(evaluate({ capacity: "fargate" }), "reconciler");
    expect(actionsOf(stmts).filter((a) => a.startsWith("autoscaling:"))).toEqual([]);
    expect(actionsOf(stmts).filter((a) => a.includes("ContainerInstances"))).toEqual([]);
  });

  it("the gateway task has no task role; pool tasks may only mount the shared access point", () => {
    const gw = m.one("aws_ecs_task_definition.gateway");
    expect(gw["task_role_arn"]).toBeUndefined();
    const pool = policyStatements(m, "pool_task");
    expect(actionsOf(pool)).toEqual(["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]);
    expect(pool[0]!.resources).toEqual(["${aws_efs_file_system.workspaces.arn}"]);
    expect(cond(pool[0]!, "elasticfilesystem:AccessPointArn")?.values).toEqual([
      "${aws_efs_access_point.workspaces.arn}",
    ]);
  });

  it("inline policies are attached only to the roles this table expects", () => {
    const attached = [...tfModule().resources.keys()]
      .filter((k) => k.startsWith("aws_iam_role_policy."))
      .map((k) => [k, spell(m.one(k)["role"]!), spell(m.one(k)["policy"]!)]);
    expect(attached).toEqual([
      [
        "aws_iam_role_policy.pool_task_efs_root",
        "${aws_iam_role.pool_task.id}",
        "${data.aws_iam_policy_document.pool_task_efs_root.json}",
      ],
      [
        "aws_iam_role_policy.reconciler_feed",
        "${aws_iam_role.reconciler_task.id}",
        "${data.aws_iam_policy_document.reconciler_feed[0].json}",
      ],
      [
        "aws_iam_role_policy.reconciler",
        "${aws_iam_role.reconciler_task.id}",
        "${data.aws_iam_policy_document.reconciler.json}",
      ],
      [
        "aws_iam_role_policy.pool_task",
        "${aws_iam_role.pool_task.id}",
        "${data.aws_iam_policy_document.pool_task.json}",
      ],
      [
        "aws_iam_role_policy.control_execution",
        "${aws_iam_role.control_execution.id}",
        "${data.aws_iam_policy_document.control_execution.json}",
      ],
      [
        "aws_iam_role_policy.pool_execution",
        "${aws_iam_role.pool_execution.id}",
        "${data.aws_iam_policy_document.pool_execution.json}",
      ],
    ]);
  });

  it("execution roles read only their own secrets and write only their own log groups", () => {
    const ctl = policyStatements(m, "control_execution");
    const pool = policyStatements(m, "pool_execution");
    expect(byAction(ctl, "secretsmanager:GetSecretValue")[0]!.resources).toEqual([
      "${aws_secretsmanager_secret.redis_url[0].arn}",
      "${aws_secretsmanager_secret.gateway_tokens[0].arn}",
    ]);
    expect(byAction(pool, "secretsmanager:GetSecretValue")[0]!.resources).toEqual([
      "${aws_secretsmanager_secret.redis_url[0].arn}",
    ]);
    expect(byAction(pool, "logs:PutLogEvents")[0]!.resources).toEqual([
      "${aws_cloudwatch_log_group.pool.arn}:*",
    ]);
  });
});
