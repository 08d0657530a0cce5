/**
 * The security- and behaviour-relevant facts of deploy/terraform, read from the files and
 * evaluated for example inputs: the shared EFS access point, the pool task definition, the
 * singleton reconciler, the hibernated warm pool, Redis with TLS + AUTH.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseHcl, plain, spell, type Value } from "./hcl/index.js";
import { BASE_INPUTS, EXAMPLE_DIR, MODULE_DIR, evaluate } from "./fixtures.js";
import { loadModule } from "./terraform-module.js";

type Obj = Record<string, Value>;
const first = (v: Value | undefined): Obj => (v as Obj[])[0]!;

function tfFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f.startsWith(".") ? [] : tfFiles(p);
    return f.endsWith(".tf") ? [p] : [];
  });
}

describe("deploy/terraform", () => {
  const m = evaluate();

  it("every .tf file parses", () => {
    const files = tfFiles("deploy/terraform");
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const f of files) expect(() => parseHcl(readFileSync(f, "utf8"), f)).not.toThrow();
    expect(loadModule(EXAMPLE_DIR).variables.size).toBeGreaterThan(0);
  });

  it("the shared access point: root /workspaces/<env>, created 0:0 0711, no forced POSIX user", () => {
    const ap = m.one("aws_efs_access_point.workspaces");
    expect(ap["posix_user"]).toBeUndefined(); // each NFS call keeps its caller's uid
    const root = first(ap["root_directory"]);
    expect(root["path"]).toBe("/workspaces/staging");
    expect(first(root["creation_info"])).toEqual({ owner_uid: 0, owner_gid: 0, permissions: "0711" });
    expect(m.one("aws_efs_file_system.workspaces")["encrypted"]).toBe(true);
    expect(m.instances("aws_efs_mount_target.workspaces").map((i) => i.key)).toEqual([
      "subnet-aaaa",
      "subnet-bbbb",
    ]);
  });

  it("the file system refuses unencrypted transport", () => {
    const doc = m.one("data.aws_iam_policy_document.efs");
    const deny = (doc["statement"] as Obj[]).find((s) => s["effect"] === "Deny")!;
    expect(first(deny["condition"])).toMatchObject({ variable: "aws:SecureTransport", values: ["false"] });
  });

  it("pool task definition: awsvpc, the access point with transit encryption and IAM auth, the bridge as entrypoint", () => {
    const td = m.one("aws_ecs_task_definition.pool");
    expect(td["family"]).toBe("demo-pool");
    expect(td["network_mode"]).toBe("awsvpc");
    expect(td["requires_compatibilities"]).toEqual(["EC2"]);
    const efs = first(first(td["volume"])["efs_volume_configuration"]);
    expect(efs["transit_encryption"]).toBe("ENABLED");
    expect(plain(first(efs["authorization_config"]))).toEqual({
      access_point_id: "${aws_efs_access_point.workspaces.id}",
      iam: "ENABLED",
    });
    const [c, ...others] = JSON.parse(td["container_definitions"] as string) as Record<string, unknown>[];
    expect(others).toEqual([]);
    expect(c).toMatchObject({
      name: "agent",
      entryPoint: ["warmpool", "bridge"],
      user: "0:0",
      readonlyRootFilesystem: true,
      dockerSecurityOptions: ["no-new-privileges"],
      stopTimeout: 120,
      mountPoints: [{ sourceVolume: "workspaces", containerPath: "/mnt/efs", readOnly: false }],
    });
    const env = Object.fromEntries(
      (c!["environment"] as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    expect(JSON.parse(env["WARMPOOL_AGENT_COMMAND"]!)).toEqual(["optima", "headless"]);
    expect(env["WARMPOOL_WORKSPACE_ROOT"]).toBe("/mnt/efs");
    expect(env["WARMPOOL_ISOLATION"]).toBe("per-user");
    // Docker's defaults minus exactly CHOWN, KILL, SETGID, SETUID (Fargate can add nothing back).
    const lp = c!["linuxParameters"] as { capabilities: { drop: string[]; add?: string[] } };
    expect(lp.capabilities.add).toBeUndefined();
    const dockerDefaults = [
      "AUDIT_WRITE",
      "CHOWN",
      "DAC_OVERRIDE",
      "FOWNER",
      "FSETID",
      "KILL",
      "MKNOD",
      "NET_BIND_SERVICE",
      "NET_RAW",
      "SETFCAP",
      "SETGID",
      "SETPCAP",
      "SETUID",
      "SYS_CHROOT",
    ];
    expect(dockerDefaults.filter((x) => !lp.capabilities.drop.includes(x))).toEqual([
      "CHOWN",
      "KILL",
      "SETGID",
      "SETUID",
    ]);
    expect(spell(td["task_role_arn"]!)).toBe("${aws_iam_role.pool_task.arn}");
  });

  it("no secret reaches a task definition in plain text; secrets come from Secrets Manager", () => {
    for (const name of ["pool", "reconciler", "gateway"]) {
      const td = m.one(`aws_ecs_task_definition.${name}`)["container_definitions"] as string;
      expect(td).not.toContain(BASE_INPUTS["redis_auth_token"] as string);
      expect(td).not.toContain((BASE_INPUTS["gateway_tokens"] as string[])[0]!);
      const [c] = JSON.parse(td) as { secrets: { name: string; valueFrom: string }[] }[];
      expect(c!.secrets.map((s) => s.name)).toContain("WARMPOOL_REDIS_URL");
      for (const s of c!.secrets) expect(s.valueFrom).toMatch(/aws_secretsmanager_secret\.\w+\[0\]\.arn/);
    }
  });

  it("the reconciler is a singleton service: desiredCount 1, deployment maximum 100 / minimum 0", () => {
    const svc = m.one("aws_ecs_service.reconciler");
    expect(svc["desired_count"]).toBe(1);
    expect(svc["deployment_maximum_percent"]).toBe(100);
    expect(svc["deployment_minimum_healthy_percent"]).toBe(0);
  });

  it("the gateway sits behind a load balancer whose health check is /readyz", () => {
    const svc = m.one("aws_ecs_service.gateway");
    expect(first(svc["load_balancer"])).toMatchObject({ container_name: "gateway", container_port: 8080 });
    expect(first(m.one("aws_lb_target_group.gateway")["health_check"])["path"]).toBe("/readyz");
  });

  it("launch template: slim user data with the ECS agent's warm-pool settings, hibernation, encrypted root", () => {
    const lt = m.one("aws_launch_template.pool");
    const userData = Buffer.from(lt["user_data"] as string, "base64").toString();
    expect(userData).toMatch(/^ECS_CLUSTER=\$\{aws_ecs_cluster\.this\[0\]\.name\}$/m);
    expect(userData).toMatch(/^ECS_WARM_POOLS_CHECK=true$/m);
    expect(userData).toMatch(/^ECS_IMAGE_PULL_BEHAVIOR=prefer-cached$/m);
    expect(userData.split("\n").length).toBeLessThan(20);
    expect(first(lt["hibernation_options"])["configured"]).toBe(true);
    const ebs = first(first(lt["block_device_mappings"])["ebs"]);
    expect(ebs["encrypted"]).toBe(true);
    expect(ebs["volume_size"]).toBeGreaterThanOrEqual(30);
    expect(first(lt["metadata_options"])["http_tokens"]).toBe("required");
  });

  it("the Auto Scaling group keeps a Hibernated warm pool behind an ECS capacity provider", () => {
    const asg = m.one("aws_autoscaling_group.pool");
    expect(first(asg["warm_pool"])["pool_state"]).toBe("Hibernated");
    expect(asg["protect_from_scale_in"]).toBe(true);
    const cp = m.one("aws_ecs_capacity_provider.pool");
    expect(spell(first(cp["auto_scaling_group_provider"])["auto_scaling_group_arn"]!)).toBe(
      "${aws_autoscaling_group.pool[0].arn}",
    );
  });

  it("only the reconciler scales the group: no ECS managed scaling or termination protection, no reuse, no refresh of protected instances", () => {
    const asg = m.one("aws_autoscaling_group.pool");
    // ECS-backed groups may not reuse instances on scale-in; the reconciler never sets it either.
    expect(first(asg["warm_pool"])["instance_reuse_policy"]).toBeUndefined();
    // Terraform would put its warm-pool sizes back on every apply over the reconciler's.
    const ignored = String(first(asg["lifecycle"])["ignore_changes"]);
    expect(ignored).toMatch(/desired_capacity/);
    expect(ignored).toMatch(/warm_pool/);
    const provider = first(m.one("aws_ecs_capacity_provider.pool")["auto_scaling_group_provider"]);
    expect(provider["managed_termination_protection"]).toBe("DISABLED");
    expect(first(provider["managed_scaling"])["status"]).toBe("DISABLED");
    // A new AMI must not replace instances that host sessions (the reconciler protects them).
    expect(first(first(asg["instance_refresh"])["preferences"])["scale_in_protected_instances"]).toBe(
      "Ignore",
    );
    const workflow = readFileSync(".github/workflows/ami.yml", "utf8");
    expect(workflow).toMatch(/"ScaleInProtectedInstances":"Ignore"/);
    expect(workflow).not.toMatch(/"ScaleInProtectedInstances":"Refresh"/);
  });

  it("on Fargate there is no EC2 tier at all", () => {
    const f = evaluate({ capacity: "fargate" });
    for (const r of [
      "aws_launch_template.pool",
      "aws_autoscaling_group.pool",
      "aws_ecs_capacity_provider.pool",
    ]) {
      expect(f.instances(r), r).toEqual([]);
    }
    expect(f.one("aws_ecs_task_definition.pool")["requires_compatibilities"]).toEqual(["FARGATE"]);
    // Fargate refuses dockerSecurityOptions; the same capability drop list applies.
    const [c] = JSON.parse(f.one("aws_ecs_task_definition.pool")["container_definitions"] as string) as Obj[];
    expect(c!["dockerSecurityOptions"]).toBeUndefined();
    expect(c!["user"]).toBe("0:0");
  });

  it("ElastiCache with TLS in transit, AUTH and encryption at rest — or none with an existing endpoint", () => {
    const rg = m.one("aws_elasticache_replication_group.redis");
    expect(rg["transit_encryption_enabled"]).toBe(true);
    expect(rg["at_rest_encryption_enabled"]).toBe(true);
    expect(rg["auth_token"]).toBe(BASE_INPUTS["redis_auth_token"]);
    // A plain SET of the config key wakes the reconciler: keyspace events of generic and string
    // commands on, through the parameter group (ElastiCache refuses CONFIG SET).
    expect(spell(rg["parameter_group_name"]!)).toBe("${aws_elasticache_parameter_group.redis[0].name}");
    const pg = m.one("aws_elasticache_parameter_group.redis");
    expect(pg["family"]).toBe("redis7");
    const notify = (pg["parameter"] as Obj[]).find((p) => p["name"] === "notify-keyspace-events");
    expect(String(notify?.["value"]).split("").sort()).toEqual(["$", "K", "g"].sort());
    const url = m.one("aws_secretsmanager_secret_version.redis_url")["secret_string"];
    expect(spell(url!)).toMatch(/^rediss:\/\/:r{32}@/);
    const existing = evaluate({
      existing_redis_url_secret_arn: "arn:aws:secretsmanager:eu-west-1:1:secret:r",
    });
    expect(existing.instances("aws_elasticache_replication_group.redis")).toEqual([]);
    expect(existing.local("redis_secret_arn")).toBe("arn:aws:secretsmanager:eu-west-1:1:secret:r");
  });

  it("the example root module uses this module and sets what it requires", () => {
    const ex = loadModule(EXAMPLE_DIR);
    const src = readFileSync(join(EXAMPLE_DIR, "main.tf"), "utf8");
    const mod = parseHcl(src).blocks.find((b) => b.type === "module")!;
    expect(mod.body.attributes["source"]?.src).toBe('"../.."');
    const required = [...loadModule(MODULE_DIR).variables].filter(([, b]) => !b.body.attributes["default"]);
    for (const [name] of required) expect(Object.keys(mod.body.attributes), name).toContain(name);
    expect(ex.outputs.has("gateway_url")).toBe(true);
  });
});
