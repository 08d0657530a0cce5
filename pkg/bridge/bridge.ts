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
import { checkUserId, TaskChannel } from "../claims/index.js";
import type { InboxMessage } from "../claims/types.js";
import type { Logger } from "../log/index.js";
import { createRedis, isTransientRedisError, redactSecrets } from "../redis/index.js";
import { startAgent, stopAgent, type AgentSpec, type Launch } from "./agent.js";
import { resolveIdentity } from "./identity.js";
import type { Isolation } from "./isolation.js";
import { SessionServer } from "./session-server.js";
import { FsUidAllocator } from "./uid-allocator.js";
import { preparePrivateWorkspace, prepareWorkspace, secureRoot, WorkspaceRefused } from "./workspace.js";

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
  /** Per-user UIDs (bridge as root) or shared (see isolation.ts). */
  isolation: Isolation;
  stopGraceMs: number;
  logger: Logger;
}

export const EXIT_UNUSED = 0;
export const EXIT_SESSION_OVER = 1;

type Stop = { type: "stop" };
const INBOX_BACKOFF_MAX_MS = 5_000;

/** Turns a user id into a workspace directory and the way to launch its agent. */
type Placement = (userId: string) => Promise<{ dir: string; launch: Launch }>;

async function placement(cfg: BridgeConfig): Promise<Placement> {
  const iso = cfg.isolation;
  if (iso.mode === "shared")
    return async (userId) => ({
      dir: await prepareWorkspace(cfg.workspaceRoot, userId, cfg.userIdPattern),
      launch: { kind: "shared" },
    });
  const root = await secureRoot(cfg.workspaceRoot);
  const uids = new FsUidAllocator(root, iso.uidBase);
  await uids.init();
  return async (userId) => {
    // The id is validated before it names anything on disk (the allocator's records included).
    const check = checkUserId(userId, cfg.userIdPattern);
    if (!check.ok) throw new WorkspaceRefused(`userId: ${check.rule}`);
    const uid = await uids.uidFor(userId);
    const owner = { uid, gid: uid };
    const dir = await preparePrivateWorkspace(root, userId, owner, cfg.userIdPattern);
    return { dir, launch: { kind: "per-user", owner, setpriv: iso.setpriv, env: iso.env } };
  };
}

export async function runBridge(cfg: BridgeConfig, stop: AbortSignal): Promise<number> {
  const id = await resolveIdentity({ taskArn: cfg.taskArn, metadataUri: cfg.metadataUri });
  const log = cfg.logger.child({ taskId: id.taskId });
  if (cfg.isolation.mode === "shared") log.warn({ why: cfg.isolation.why }, "agents are NOT isolated");
  const place = await placement(cfg);
  const token = randomBytes(32).toString("base64url");
  const server = new SessionServer(token);
  server.onRefused = (reason) => log.warn({ reason }, "session connection refused");
  const port = await server.listen(cfg.listenHost, cfg.port);
  const wildcard = cfg.listenHost === "0.0.0.0" || cfg.listenHost === "::";
  const host = cfg.advertiseHost ?? (wildcard ? (id.address ?? "127.0.0.1") : cfg.listenHost);
  // Failover-proof: re-dialled on READONLY/UNBLOCKED, commands wait out a reconnect (docs/redis-acl.md).
  const redis = createRedis(cfg.redisUrl, { offlineQueue: true });
  const blocking = createRedis(cfg.redisUrl, { use: "blocking" });
  redis.on("error", (e: Error) => log.warn({ err: redactSecrets(e.message) }, "redis connection error"));
  blocking.on("error", (e: Error) =>
    log.debug({ err: redactSecrets(e.message) }, "redis blocking connection error"),
  );
  const ch = new TaskChannel(redis, cfg.pool, id.taskId);
  const stopped = new Promise<Stop>((resolve) => {
    if (stop.aborted) resolve({ type: "stop" });
    stop.addEventListener("abort", () => resolve({ type: "stop" }), { once: true });
  });
  let closing = false;
  let inSession = false;
  // A Redis role change (UNBLOCKED, READONLY) or a lost connection must not end a session: the
  // inbox is read again with backoff. While warm, only transient errors are retried.
  const nextFromInbox = async (): Promise<InboxMessage> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await ch.next(blocking, {
          onMalformed: (raw) => log.warn({ raw: raw.slice(0, 200) }, "malformed inbox entry skipped"),
          // TaskChannel retries a role change or a lost connection itself, with backoff.
          onRetry: (e, failures) =>
            log.warn({ err: redactSecrets(String(e)), failures }, "inbox read failed; retrying"),
        });
      } catch (e) {
        if (closing || (!inSession && !isTransientRedisError(e))) throw e;
        const ms = Math.min(INBOX_BACKOFF_MAX_MS, 100 * 2 ** Math.min(attempt, 6));
        log.warn({ err: redactSecrets(String(e)), retryInMs: ms }, "inbox read failed; retrying");
        await new Promise((r) => setTimeout(r, ms));
      }
    }
  };
  let inflight: Promise<InboxMessage> | undefined;
  const nextMessage = (): Promise<InboxMessage | Stop> => {
    inflight ??= nextFromInbox();
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
      inSession = true;
      return await serve(cfg, place, ch, server, msg.claimId, msg.userId, nextMessage, log);
    }
  } finally {
    closing = true;
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
  place: Placement,
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
    const { dir, launch } = await place(userId);
    agent = await startAgent(cfg.agent, dir, userId, launch);
    log.info(
      { claimId, uid: launch.kind === "per-user" ? launch.owner.uid : process.getuid?.() },
      "agent started",
    );
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
