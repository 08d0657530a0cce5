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
      budgetAsg: 5,
      handoffVisibilitySeconds: 2,
      handoffMaxReceives: 50,
    });
    expect(buildConfig({ ...base, pools: "a, b" }).fleet?.names).toEqual(["a", "b"]);
    const sel = buildConfig({
      ...base,
      "pool-selector": "tier=small,region=eu",
      "aws-account": "123456789012",
      "budget-ecs-read": "5",
      "budget-ecs-write": 8,
      "budget-asg": "1.5",
      "feed-handoff-visibility": "5s",
      "feed-handoff-max-receives": "10",
      "fleet-ttl": "3s",
    }).fleet;
    expect(sel).toEqual({
      selector: { tier: "small", region: "eu" },
      ttlMs: 3_000,
      account: "123456789012",
      budgetRead: 5,
      budgetWrite: 8,
      budgetAsg: 1.5,
      handoffVisibilitySeconds: 5,
      handoffMaxReceives: 10,
    });
    // A bare number is seconds, as for every duration flag.
    expect(buildConfig({ ...base, "all-pools": true, "feed-handoff-visibility": "30" }).fleet).toMatchObject({
      handoffVisibilitySeconds: 30,
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
      "budget-asg": "none",
      "feed-handoff-visibility": "1500ms",
      "feed-handoff-max-receives": "0",
    });
    expect(many).toMatch(/--budget-ecs-read: must be a positive number/);
    expect(many).toMatch(/--budget-ecs-write: must be a positive number/);
    expect(many).toMatch(/--aws-account: must be 1–64/);
    expect(many).toMatch(/--fleet-ttl: must be between 300 ms/);
    expect(many).toMatch(/--budget-asg: must be a positive number/);
    expect(many).toMatch(
      /--feed-handoff-visibility: must be a whole number of seconds between 1s and 43200s/,
    );
    expect(many).toMatch(/--feed-handoff-max-receives: must be an integer 1–1000/);
    const tooLong = problems({ "all-pools": true, "feed-handoff-visibility": "13h" });
    expect(tooLong).toMatch(/--feed-handoff-visibility: .* got "13h"/);
    expect(problems({ "all-pools": true, "feed-handoff-max-receives": "2.5" })).toMatch(
      /--feed-handoff-max-receives: must be an integer 1–1000 \(receives\), got "2.5"/,
    );
    expect(problems({ "all-pools": true, "feed-handoff-visibility": "soon" })).toMatch(
      /--feed-handoff-visibility: "soon" is not a duration/,
    );
    // The many-pools flags mean nothing to one pool: refused, not silently ignored.
    const single = problems({ pool: "agents", "budget-asg": "3", "feed-handoff-max-receives": "5" });
    expect(single).toMatch(/--budget-asg: only with many pools/);
    expect(single).toMatch(/--feed-handoff-max-receives: only with many pools/);
    expect(problems({})).toMatch(/--pool \(WARMPOOL_POOL\) is required/);
  });
});
