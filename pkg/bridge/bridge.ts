/**
 * The bridge's lifecycle inside one pool task (DESIGN §3): register warm → wait for init_user
 * (BLPOP on the task's inbox) → prepare the user's workspace → start the agent → report ready →
 * serve the session → end. A pool task serves at most one session: afterwards it exits non-zero so
 * the task ends (ECS stops a task whose essential container exits), and it never returns to warm.
 *
 * Exit codes: 0 left the pool unused (cordoned, drained, stopped while warm); 1 a session ended or
 * could not start; the task is finished either way.
 */
import { randomBytes } from "node:crypto";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { Redis } from "ioredis";
import { TaskChannel } from "../claims/index.js";
import type { InboxMessage } from "../claims/types.js";
import type { Logger } from "../log/index.js";
import { startAgent, stopAgent, type AgentSpec } from "./agent.js";
import { resolveIdentity } from "./identity.js";
import { SessionServer } from "./session-server.js";
import { prepareWorkspace, type Owner } from "./workspace.js";

export interface BridgeConfig {
  pool: string;
  redisUrl: string;
  workspaceRoot: string;
  agent: AgentSpec;
  /** Explicit task ARN; otherwise read from ECS task metadata. */
  taskArn?: string;
  metadataUri?: string;
  listenHost: string;
  port: number;
  /** Host put in the endpoint; defaults to the listen host, or the task's IP when listening on all. */
  advertiseHost?: string;
  userIdPattern?: RegExp;
  /** Per-user UID/GID = base + n when running as root. */
  uidBase?: number;
  stopGraceMs: number;
  logger: Logger;
}

export const EXIT_UNUSED = 0;
export const EXIT_SESSION_OVER = 1;

type Stop = { type: "stop" };

export async function runBridge(cfg: BridgeConfig, stop: AbortSignal): Promise<number> {
  const id = await resolveIdentity({ taskArn: cfg.taskArn, metadataUri: cfg.metadataUri });
  const log = cfg.logger.child({ taskId: id.taskId });
  const token = randomBytes(32).toString("base64url");
  const server = new SessionServer(token);
  server.onRefused = (reason) => log.warn({ reason }, "session connection refused");
  const port = await server.listen(cfg.listenHost, cfg.port);
  const wildcard = cfg.listenHost === "0.0.0.0" || cfg.listenHost === "::";
  const host = cfg.advertiseHost ?? (wildcard ? (id.address ?? "127.0.0.1") : cfg.listenHost);
  const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 3 });
  const blocking = new Redis(cfg.redisUrl, { maxRetriesPerRequest: null });
  redis.on("error", (e: Error) => log.warn({ err: e.message }, "redis connection error"));
  blocking.on("error", (e: Error) => log.debug({ err: e.message }, "redis blocking connection error"));
  const ch = new TaskChannel(redis, cfg.pool, id.taskId);
  const stopped = new Promise<Stop>((resolve) => {
    if (stop.aborted) resolve({ type: "stop" });
    stop.addEventListener("abort", () => resolve({ type: "stop" }), { once: true });
  });
  let inflight: Promise<InboxMessage> | undefined;
  const nextMessage = (): Promise<InboxMessage | Stop> => {
    inflight ??= ch.next(blocking, (raw) =>
      log.warn({ raw: raw.slice(0, 200) }, "malformed inbox entry skipped"),
    );
    return Promise.race([inflight.then((m) => ((inflight = undefined), m)), stopped]);
  };

  try {
    const reg = await ch.register({
      taskArn: id.taskArn,
      ...(id.revision ? { revision: id.revision } : {}),
      endpoint: `${host}:${port}`,
      token,
    });
    if (reg.outcome === "draining") {
      log.info("task was cordoned before it registered; exiting");
      return EXIT_UNUSED;
    }
    if (reg.outcome === "already-registered") {
      log.error({ state: reg.state }, "task already registered; a pool task registers once");
      return EXIT_SESSION_OVER;
    }
    log.info({ endpoint: `${host}:${port}`, outcome: reg.outcome }, "registered");

    for (;;) {
      const msg = await nextMessage();
      if (msg.type === "stop") return await leaveWarm(ch, log);
      if (msg.type === "drain") {
        log.info({ reason: msg.reason }, "drained while warm; exiting");
        return EXIT_UNUSED;
      }
      if (msg.type === "release") {
        log.info(
          { claimId: msg.claimId, reason: msg.reason },
          "claim ended before the session started; exiting",
        );
        return EXIT_SESSION_OVER;
      }
      const rec = await ch.record();
      if (rec.state !== "claimed" || rec.claimId !== msg.claimId || rec.userId !== msg.userId) {
        log.warn(
          { claimId: msg.claimId },
          "init_user refused: this task does not hold that claim for that user",
        );
        continue;
      }
      return await serve(cfg, ch, server, msg.claimId, msg.userId, nextMessage, log);
    }
  } finally {
    await server.close();
    blocking.disconnect();
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** SIGTERM while warm: leave the pool first, so no claim takes a task that is going away. */
async function leaveWarm(ch: TaskChannel, log: Logger): Promise<number> {
  if (await ch.cordonSelf("task-stopping")) {
    log.info("stopping while warm: left the pool");
    return EXIT_UNUSED;
  }
  const rec = await ch.record();
  if (rec.state === "claimed" && rec.claimId) {
    await ch.reportFailed(rec.claimId, "the task is stopping");
    log.warn({ claimId: rec.claimId }, "stopping with a claim not yet served: failed it");
  }
  return EXIT_SESSION_OVER;
}

async function serve(
  cfg: BridgeConfig,
  ch: TaskChannel,
  server: SessionServer,
  claimId: string,
  userId: string,
  nextMessage: () => Promise<InboxMessage | Stop>,
  log: Logger,
): Promise<number> {
  const t0 = performance.now();
  let agent: ChildProcessWithoutNullStreams;
  try {
    const owner = await ownerFor(cfg, ch, userId);
    const dir = await prepareWorkspace(cfg.workspaceRoot, userId, cfg.userIdPattern, owner);
    agent = await startAgent(cfg.agent, dir, userId, owner);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    log.warn({ claimId, reason }, "session could not start; failing the claim");
    await ch.reportFailed(claimId, reason);
    return EXIT_SESSION_OVER;
  }
  const agentExited = new Promise<{ type: "agent-exited"; code: number | null }>((resolve) =>
    agent.once("exit", (code) => resolve({ type: "agent-exited", code })),
  );
  server.attach(agent);
  const ready = await ch.reportReady(claimId);
  if (ready.outcome !== "ready") {
    log.warn({ claimId, outcome: ready.outcome }, "claim no longer ours at ready; ending");
    await stopAgent(agent, cfg.stopGraceMs);
    return EXIT_SESSION_OVER;
  }
  log.info({ claimId, ms: Math.round(performance.now() - t0) }, "session ready");
  const clientGone = new Promise<{ type: "client-gone" }>((resolve) => {
    server.onClientGone = () => resolve({ type: "client-gone" });
  });

  let reason = "";
  while (!reason) {
    const ev = await Promise.race([agentExited, clientGone, nextMessage()]);
    if (ev.type === "init_user")
      log.warn({ claimId: ev.claimId }, "second init_user refused: one session per task");
    else if (ev.type === "release") {
      // Only this session's own claim ends it: after a failover that lost writes, another
      // user's stale claim may name this task, and must not end a session it never owned.
      if (ev.claimId === claimId) reason = `released: ${ev.reason}`;
      else log.warn({ claimId: ev.claimId, reason: ev.reason }, "release of another claim ignored");
    } else if (ev.type === "drain") reason = `drain: ${ev.reason}`;
    else if (ev.type === "agent-exited") reason = `agent-exited (${ev.code})`;
    else if (ev.type === "client-gone") reason = "client-disconnected";
    else reason = "task-stopping";
  }
  log.info({ claimId, reason }, "session over");
  await stopAgent(agent, cfg.stopGraceMs);
  await ch.endSession(claimId, reason.replace(/[: ].*$/, "")).catch((e: unknown) => {
    log.warn({ err: String(e) }, "could not record the end of the session");
  });
  return EXIT_SESSION_OVER;
}

async function ownerFor(cfg: BridgeConfig, ch: TaskChannel, userId: string): Promise<Owner | undefined> {
  if (cfg.uidBase === undefined) return undefined;
  if (process.getuid?.() !== 0) throw new Error("per-user UIDs need the bridge to run as root");
  const n = await ch.userOffset(userId);
  return { uid: cfg.uidBase + n, gid: cfg.uidBase + n };
}
