/**
 * What new tasks run: the task definition resolved to an ARN (DescribeTaskDefinition), cached so
 * that a pass rarely asks ECS, and never waits on the read budget in cache mode once it knows an
 * ARN. A pass that cannot resolve it goes on with the last ARN known for the same task definition,
 * or without launches; a task definition ECS refused is asked again only every few seconds.
 */
import type { EcsDriver } from "../ecs/index.js";
import type { Logger } from "../log/index.js";
import { isStopSignal } from "./act.js";
import { errMsg } from "./pass-steps.js";

/** How long a resolved task definition ARN is trusted before it is asked again (new revisions). */
const REVISION_TTL_MS = 60_000;
/** How long a task definition ECS refused is not asked again (cache mode). */
const REFUSED_TTL_MS = 5_000;

export interface PassRevision {
  /** The ARN this pass launches; undefined = none known: no launch, no replacement. */
  revision: string | undefined;
  /** Why it is not freshly resolved, for the pass's errors. */
  error?: string;
}

export class RevisionSource {
  private cached: { td: string; arn: string; atMs: number } | undefined;
  private refreshing: Promise<void> | undefined;
  private refused: { td: string; err: unknown; atMs: number } | undefined;

  constructor(
    private readonly ecs: Pick<EcsDriver, "resolveTaskDefinition">,
    /** Cache mode: serve the known ARN while a refresh runs; refused definitions asked every 5 s. */
    private readonly background: boolean,
    private readonly log: Logger,
  ) {}

  /**
   * The ARN new tasks of `td` run, cached for REVISION_TTL_MS: every pass asks, and so does the
   * desired-state check of a new value, which then costs one DescribeTaskDefinition, not two.
   */
  async resolve(td: string): Promise<string> {
    const c = this.cached;
    if (c && c.td === td && Date.now() - c.atMs < REVISION_TTL_MS) return c.arn;
    if (c && c.td === td && this.background) {
      // Observing from a cache, a pass never waits on the read budget (a relist may hold it):
      // the known ARN serves while a refresh runs in the background.
      this.refreshing ??= this.ecs
        .resolveTaskDefinition(td)
        .then(
          (arn) => {
            if (this.cached?.td === td) this.cached = { td, arn, atMs: Date.now() };
          },
          (err: unknown) => {
            this.log.debug({ err: errMsg(err) }, "refreshing the task definition failed");
            // ECS refused it outright: the next pass resolves in line and reports why.
            if ((err as Error).name === "TaskDefinitionUnusable") this.cached = undefined;
          },
        )
        .finally(() => (this.refreshing = undefined));
      return c.arn;
    }
    const arn = await this.ecs.resolveTaskDefinition(td);
    this.cached = { td, arn, atMs: Date.now() };
    return arn;
  }

  /** The revision one pass launches, never throwing but for a stop signal. */
  async forPass(td: string, log: Logger): Promise<PassRevision> {
    try {
      const refused = this.refused;
      // Observing from a cache, a refused task definition is asked again only every few seconds,
      // not on every pass: each ask is a read from the budget.
      if (this.background && refused?.td === td && Date.now() - refused.atMs < REFUSED_TTL_MS)
        throw refused.err;
      return { revision: await this.resolve(td) };
    } catch (err) {
      if (isStopSignal(err)) throw err;
      if ((err as Error).name === "TaskDefinitionUnusable" && this.refused?.err !== err)
        this.refused = { td, err, atMs: Date.now() };
      // Not knowing what to launch must not stop the rest: leases still expire, released tasks
      // are still stopped. The last ARN resolved for this task definition stands in, if any;
      // without one this pass launches nothing and replaces nothing.
      const c = this.cached;
      const revision = c && c.td === td ? c.arn : undefined;
      log.warn(
        { err: errMsg(err), fallback: revision ?? null },
        revision
          ? "task definition not resolved: using the last known revision"
          : "task definition not resolved: no launches this pass",
      );
      return { revision, error: `resolving task definition ${td}: ${errMsg(err)}` };
    }
  }
}
