/**
 * The ACL module renders one truth three ways: the ACL file redis-server loads (acl.test.ts), the
 * generated Terraform locals (checked here for drift, as Agones diffs its install YAML), and the
 * flat variant for engines without selectors (loaded here into a real redis-server). The module
 * evaluated with RBAC passwords gives each process its own user's URL and nothing else.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TERRAFORM_ACL_FILE } from "../../hack/redis/gen-acl.js";
import {
  accessString,
  aclMarkdownTable,
  aclRules,
  aclUser,
  POOL_PLACEHOLDER,
  REDIS_ROLES,
  roleAcl,
  terraformAcl,
} from "../../pkg/redis/index.js";
import { packageRoot } from "../../pkg/util/index.js";
import { evaluate } from "../deploy/fixtures.js";
import { spell, type Value } from "../deploy/hcl/index.js";
import { policyStatements } from "../deploy/terraform-module.js";
import { startPrivateRedis, type PrivateRedis } from "../harness/index.js";

describe("ACL rendering", () => {
  it("deploy/terraform/redis-acl.auto.tf is what pkg/redis/acl.ts generates (no drift)", () => {
    const have = readFileSync(join(packageRoot(), TERRAFORM_ACL_FILE), "utf8");
    expect(have, "run: npx tsc -p . && node dist/hack/redis/gen-acl.js").toBe(terraformAcl());
  });

  it("docs/redis-acl.md's role → permissions table is the module's (no drift)", () => {
    const doc = readFileSync(join(packageRoot(), "docs", "redis-acl.md"), "utf8");
    const start = doc.indexOf("<!-- generated:");
    const end = doc.indexOf("<!-- end generated -->");
    expect(start).toBeGreaterThan(0);
    // Prettier pads the cells; compare cell by cell.
    const cells = (md: string): string[][] =>
      md
        .split("\n")
        .filter((l) => l.startsWith("|") && !/^\|[\s|:-]+\|$/.test(l))
        .map((l) =>
          l
            .split(/(?<!\\)\|/)
            .map((c) => c.trim())
            .filter(Boolean),
        );
    expect(cells(doc.slice(start, end))).toEqual(cells(aclMarkdownTable()));
  });

  it("every key pattern stays inside the pool's hash tag or names a control-plane key; no role gets a category or a wildcard key", () => {
    const global = new Set(["~wp:pools", "%R~wp:pools", "~wp:replicas", "~wp:budget:{*}:*"]);
    for (const role of REDIS_ROLES) {
      const rules = aclRules(role, "p1").join(" ").replace(/[()]/g, " ").split(/\s+/).filter(Boolean);
      for (const r of rules) {
        if (/^(%R)?~/.test(r) && !global.has(r))
          expect(r, `${role}: ${r}`).toMatch(/^(%R)?~wp:\{p1\}:[a-z:]+(\*(:inbox)?)?$/);
        if (r.startsWith("&")) expect(r, `${role}: ${r}`).toMatch(/^&(__keyspace@\*__:)?wp:\{p1\}:/);
        if (r.startsWith("+")) expect(r, `${role}: ${r}`).not.toMatch(/^\+@/);
      }
      expect(accessString(role, POOL_PLACEHOLDER)).not.toContain("p1");
      expect(roleAcl(role).grants.length).toBeGreaterThan(0);
    }
  });

  it("names an invalid pool as such", () => {
    expect(() => aclRules("bridge", "Bad Pool")).toThrow(/invalid pool name/);
  });
});

describe("the flat variant loads into a real redis-server", () => {
  let server: PrivateRedis;
  let admin: Redis;
  beforeAll(async () => {
    server = await startPrivateRedis();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it.each(REDIS_ROLES)("%s", async (role) => {
    for (const flat of [false, true]) {
      const rules = aclRules(role, "p1", { flat });
      expect(
        await admin.call("ACL", "SETUSER", aclUser(role), "reset", "on", ">0123456789abcdef", ...rules),
      ).toBe("OK");
    }
  });
});

describe("Terraform with RBAC users (redis_user_passwords)", () => {
  const passwords = {
    reconciler: "r".repeat(20),
    gateway: "g".repeat(20),
    bridge: "b".repeat(20),
    ctl: "c".repeat(20),
  };
  const m = evaluate({ redis_user_passwords: passwords, redis_auth_token: null });

  it("one ElastiCache user per role with its generated access string for this pool, and a disabled default user", () => {
    const users = m.instances("aws_elasticache_user.role");
    expect(users.map((u) => u.key).sort()).toEqual([...REDIS_ROLES].sort());
    for (const u of users) {
      const role = u.key as (typeof REDIS_ROLES)[number];
      expect(u.args["user_name"]).toBe(aclUser(role));
      expect(u.args["access_string"]).toBe(accessString(role, "demo"));
    }
    expect(m.one("aws_elasticache_user.default")["access_string"]).toMatch(/^off /);
    const rg = m.one("aws_elasticache_replication_group.redis");
    expect(rg["auth_token"] ?? null).toBeNull();
    expect((rg["user_group_ids"] as Value[]).map(spell)).toEqual([
      "${aws_elasticache_user_group.redis[0].user_group_id}",
    ]);
    const flat = evaluate({
      redis_user_passwords: passwords,
      redis_auth_token: null,
      redis_acl_selectors: false,
    });
    for (const u of flat.instances("aws_elasticache_user.role"))
      expect(u.args["access_string"]).toBe(accessString(u.key as "bridge", "demo", { flat: true }));
  });

  it("each process reads only its own user's URL", () => {
    const urls = m.instances("aws_secretsmanager_secret_version.redis_role_url");
    for (const u of urls) expect(spell(u.args["secret_string"]!)).toContain(`rediss://warmpool-${u.key}:`);
    expect(m.instances("aws_secretsmanager_secret_version.redis_url")).toEqual([]);
    const secretOf = (td: string): string => {
      const defs = JSON.parse(spell(m.one(`aws_ecs_task_definition.${td}`)["container_definitions"]!)) as {
        name: string;
        secrets?: { name: string; valueFrom: string }[];
      }[];
      const c = defs[0]!;
      return c.secrets!.find((s) => s.name === "WARMPOOL_REDIS_URL")!.valueFrom;
    };
    const arn = (r: string): string => `\${aws_secretsmanager_secret.redis_role_url["${r}"].arn}`;
    const pool = policyStatements(m, "pool_execution").find((s) =>
      s.actions.includes("secretsmanager:GetSecretValue"),
    );
    expect(pool!.resources).toEqual([arn("bridge")]);
    const control = policyStatements(m, "control_execution").find((s) =>
      s.actions.includes("secretsmanager:GetSecretValue"),
    );
    expect(control!.resources.filter((r) => r.includes("redis"))).toEqual([
      arn("reconciler"),
      arn("gateway"),
    ]);
    expect(secretOf("pool")).toBe(arn("bridge"));
    expect(secretOf("reconciler")).toBe(arn("reconciler"));
    expect(secretOf("gateway")).toBe(arn("gateway"));
  });
});
