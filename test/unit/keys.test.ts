import { describe, expect, it } from "vitest";
import { PoolKeys, assertPoolName } from "../../pkg/keys/index.js";

describe("PoolKeys", () => {
  it("puts every key of a pool in one hash slot", () => {
    const k = new PoolKeys("shell");
    for (const key of [
      k.config,
      k.warm,
      k.task("abc"),
      k.claims,
      k.claim("c1"),
      k.waiting,
      k.events,
      k.leader,
    ]) {
      expect(key.startsWith("wp:{shell}:")).toBe(true);
    }
  });

  it.each(["", "UPPER", "a b", "x{y}", "-lead", "a".repeat(37), "../etc"])("rejects pool name %j", (name) => {
    expect(() => assertPoolName(name)).toThrow(/invalid pool name/);
  });
});
