import { describe, expect, it } from "vitest";
import { isTransientRedisError, redactSecrets, redactUrl, redisErrorCode } from "../../pkg/redis/index.js";

describe("redis error classes", () => {
  const table: { description: string; err: unknown; transient: boolean; code?: string }[] = [
    {
      description: "demoted primary",
      err: new Error("READONLY You can't write against a read only replica."),
      transient: true,
      code: "READONLY",
    },
    {
      description: "blocked command cut by a role change",
      err: new Error(
        "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
      ),
      transient: true,
      code: "UNBLOCKED",
    },
    {
      description: "loading",
      err: new Error("LOADING Redis is loading the dataset in memory"),
      transient: true,
      code: "LOADING",
    },
    {
      description: "connection refused",
      err: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
      transient: true,
    },
    { description: "closed connection", err: new Error("Connection is closed."), transient: true },
    {
      description: "ACL refusal",
      err: new Error("NOPERM User bridge has no permissions to run the 'set' command"),
      transient: false,
      code: "NOPERM",
    },
    {
      description: "script error",
      err: new Error("ERR Error running script"),
      transient: false,
      code: "ERR",
    },
    { description: "not an error", err: "READONLY", transient: false },
  ];
  for (const t of table) {
    it(t.description, () => {
      expect(isTransientRedisError(t.err)).toBe(t.transient);
      if (t.code) expect(redisErrorCode(t.err)).toBe(t.code);
    });
  }
});

describe("redaction", () => {
  it("hides the password of a URL and of every URL inside a text", () => {
    expect(redactUrl("rediss://:s3cret@redis.example:6379/0")).toBe("rediss://:***@redis.example:6379/0");
    const text = "cannot connect to redis://gateway:s3cret@h:1 or rediss://:t0ken@other:2";
    const out = redactSecrets(text);
    expect(out).not.toContain("s3cret");
    expect(out).not.toContain("t0ken");
    expect(out).toContain("redis://gateway:***@h:1");
  });
});
