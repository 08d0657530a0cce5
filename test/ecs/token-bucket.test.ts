import { describe, expect, it } from "vitest";
import { TokenBucket, backoffMs, classifyError } from "../../pkg/ecs/index.js";

describe("TokenBucket (ECS-shaped client-side limit)", () => {
  it("allows the burst, then refills at the rate", () => {
    let t = 0;
    const b = new TokenBucket(40, 100, () => t);
    let taken = 0;
    while (b.tryTake() === 0) taken++;
    expect(taken).toBe(100);
    expect(b.tryTake()).toBe(25); // one token at 40/s
    t += 1_000;
    taken = 0;
    while (b.tryTake() === 0) taken++;
    expect(taken).toBe(40);
  });

  it("penalize() empties the bucket after a server-side throttle", () => {
    let t = 0;
    const b = new TokenBucket(20, 100, () => t);
    b.penalize();
    expect(b.tryTake()).toBe(50);
    t += 50;
    expect(b.tryTake()).toBe(0);
  });

  it("rejects nonsense limits, naming them", () => {
    expect(() => new TokenBucket(0, 10)).toThrow(/rate/);
    expect(() => new TokenBucket(10, 0)).toThrow(/burst/);
  });
});

describe("retry classification and backoff", () => {
  it("tells throttling from server faults from caller errors", () => {
    expect(classifyError({ name: "ThrottlingException", $metadata: { httpStatusCode: 400 } })).toBe(
      "throttled",
    );
    expect(classifyError({ name: "ServerException", $fault: "server" })).toBe("transient");
    expect(classifyError({ $metadata: { httpStatusCode: 503 } })).toBe("transient");
    expect(classifyError({ code: "ECONNREFUSED" })).toBe("transient");
    expect(classifyError({ name: "InvalidParameterException", $fault: "client" })).toBe("fatal");
  });

  it("full jitter stays within the exponential cap", () => {
    expect(backoffMs(0, 100, 5_000, () => 0.999)).toBeLessThanOrEqual(100);
    expect(backoffMs(3, 100, 5_000, () => 1)).toBe(800);
    expect(backoffMs(20, 100, 5_000, () => 1)).toBe(5_000);
    expect(backoffMs(5, 100, 5_000, () => 0)).toBe(0);
  });
});
