import { describe, expect, it } from "vitest";
import { buildConfig } from "../../pkg/reconciler/index.js";

const base = { cluster: "default", "task-definition": "agent" };

describe("reconciler many-pools flags", () => {
  it("--pool alone keeps the single-pool mode", () => {
    const cfg = buildConfig({ ...base, pool: "agents" });
    expect(cfg.pool).toBe("agents");
    expect(cfg.fleet).toBeUndefined();
  });

  it("--all-pools, --pools and --pool-selector select pools, with the budget's defaults", () => {
    expect(buildConfig({ ...base, "all-pools": true }).fleet).toEqual({
      ttlMs: 5_000,
      account: "default",
      budgetRead: 2,
      budgetWrite: 4,
    });
    expect(buildConfig({ ...base, pools: "a, b" }).fleet?.names).toEqual(["a", "b"]);
    const sel = buildConfig({
      ...base,
      "pool-selector": "tier=small,region=eu",
      "aws-account": "123456789012",
      "budget-ecs-read": "5",
      "budget-ecs-write": 8,
      "fleet-ttl": "3s",
    }).fleet;
    expect(sel).toEqual({
      selector: { tier: "small", region: "eu" },
      ttlMs: 3_000,
      account: "123456789012",
      budgetRead: 5,
      budgetWrite: 8,
    });
  });

  it("bad input names each field and rule, all at once", () => {
    const problems = (raw: Record<string, unknown>): string => {
      try {
        buildConfig({ ...base, ...raw });
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(problems({ pools: "a", "all-pools": true })).toMatch(
      /--pools, --pool-selector and --all-pools exclude each other/,
    );
    expect(problems({ pool: "x", "all-pools": true })).toMatch(/--pool: serves one pool/);
    expect(problems({ pools: "ok,Bad Name!" })).toMatch(/--pools: /);
    expect(problems({ "pool-selector": "tier" })).toMatch(/--pool-selector: "tier" must be key=value/);
    const many = problems({
      "all-pools": true,
      "budget-ecs-read": "0",
      "budget-ecs-write": "-1",
      "aws-account": "a b",
      "fleet-ttl": "10ms",
    });
    expect(many).toMatch(/--budget-ecs-read: must be a positive number/);
    expect(many).toMatch(/--budget-ecs-write: must be a positive number/);
    expect(many).toMatch(/--aws-account: must be 1–64/);
    expect(many).toMatch(/--fleet-ttl: must be between 300 ms/);
    expect(problems({})).toMatch(/--pool \(WARMPOOL_POOL\) is required/);
  });
});
