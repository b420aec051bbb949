// Runs fleet operations (issue 10) over SGP.32 v1.2 eIM packages: each target device advances through its operation's steps, one package at a time, its state in the database (resumable after a restart, shared by several eIM processes under leases), transient failures retried with backoff.
import { randomBytes } from 'node:crypto';
import { McimError } from '../../errors.js';
import type { EimFleetStore, LeasedTarget, TargetChange } from '../../store/eimFleetStore.js';
import type { EimContext } from '../context.js';
import { issueEcos, issuePsmos } from '../euiccPackageRequest.js';
import { issueProfileDownloadTrigger } from '../profileDownloadTriggerRequest.js';
import type { FleetOperationKind, Step, StepPackage, StepState } from './operation.js';
import { operationKind } from './operations.js';

export interface FleetEngineOptions {
  /** How often due targets are looked for (default 1 s); a package result wakes its device's targets at once. */
  readonly intervalMs?: number;
  /** When a target waiting for its device is looked at again without a result arriving (default 30 s). */
  readonly waitMs?: number;
  /** The first retry's delay after a transient failure (default 5 s), doubled each attempt up to maxBackoffMs (default 10 min). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Attempts of one step before the target fails (default 5). */
  readonly maxAttempts?: number;
  /** How long a target stays leased to the process advancing it (default 60 s; a crashed process's leases lapse). */
  readonly leaseMs?: number;
  /** Targets leased per round (default 200). */
  readonly batch?: number;
  /** Unexpected errors of a round (the round is tried again at the next interval). */
  readonly onError?: (e: unknown) => void;
}

/** McimError codes that retrying cannot cure: the target fails with the message. */
const PERMANENT: ReadonlySet<string> = new Set(['DEVICE_NOT_FOUND', 'COUNTER_EXHAUSTED', 'INVALID_PACKAGE', 'INVALID_ARGUMENT']);
const MAX_CACHED_OPERATIONS = 1024;

interface Loaded {
  readonly kind: FleetOperationKind<unknown>;
  readonly params: unknown;
}

/** What one target is while it is advanced: its row's fields, changed step by step. */
interface Cursor {
  step: number;
  data: Record<string, unknown>;
  tx: string | undefined;
  attempts: number;
}

export class FleetEngine {
  readonly #ctx: EimContext;
  readonly #store: EimFleetStore;
  readonly #o: Required<Omit<FleetEngineOptions, 'onError'>> & Pick<FleetEngineOptions, 'onError'>;
  readonly #operations = new Map<string, Loaded>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #round: Promise<void> | undefined;
  #again = false;

  constructor(ctx: EimContext, store: EimFleetStore, o: FleetEngineOptions = {}) {
    this.#ctx = ctx;
    this.#store = store;
    this.#o = {
      intervalMs: o.intervalMs ?? 1000,
      waitMs: o.waitMs ?? 30_000,
      backoffMs: o.backoffMs ?? 5000,
      maxBackoffMs: o.maxBackoffMs ?? 600_000,
      maxAttempts: o.maxAttempts ?? 5,
      leaseMs: o.leaseMs ?? 60_000,
      batch: o.batch ?? 200,
      ...(o.onError === undefined ? {} : { onError: o.onError }),
    };
  }

  /** Starts advancing targets: those of operations in the database (a restart resumes them), and new ones. */
  start(): void {
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops after the round under way; targets it leased and did not finish are taken up again when their lease lapses. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round;
  }

  /** New targets (an operation just started): a round now. */
  poke(): void {
    this.#schedule(0);
  }

  /** A package result of `eid` arrived: its targets waiting for it are advanced now. */
  wake(eid: string): void {
    if (!this.#running) return;
    this.#store.wake(eid, this.#ctx.now()).then(
      () => this.#schedule(0),
      (e: unknown) => this.#o.onError?.(e),
    );
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    if (this.#round !== undefined) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#again = false;
      this.#round = this.round()
        .then(
          (n) => {
            if (n >= this.#o.batch) this.#again = true;
          },
          (e: unknown) => this.#o.onError?.(e),
        )
        .finally(() => {
          this.#round = undefined;
          this.#schedule(this.#again ? 0 : this.#o.intervalMs);
        });
    }, ms);
  }

  /** One round: leases the due targets and advances each as far as it goes now. Returns how many were leased. */
  async round(): Promise<number> {
    const leased = await this.#store.claimDue(this.#ctx.now(), this.#o.batch, this.#o.leaseMs);
    for (const t of leased) {
      try {
        await this.#advance(t);
      } catch (e) {
        this.#o.onError?.(e);
      }
    }
    return leased.length;
  }

  async #operation(id: string): Promise<Loaded | undefined> {
    const cached = this.#operations.get(id);
    if (cached !== undefined) return cached;
    const op = await this.#store.getOperation(id);
    if (op === undefined) return undefined;
    const kind = operationKind(op.kind);
    const loaded = { kind, params: kind.parse(op.params) };
    if (this.#operations.size >= MAX_CACHED_OPERATIONS) this.#operations.clear();
    this.#operations.set(id, loaded);
    return loaded;
  }

  #backoff(attempts: number): number {
    return Math.min(this.#o.backoffMs * 2 ** Math.max(0, attempts - 1), this.#o.maxBackoffMs);
  }

  async #save(t: LeasedTarget, c: Cursor, change: Pick<TargetChange, 'state' | 'nextAt' | 'reason' | 'keepLease'>): Promise<boolean> {
    return this.#store.saveTarget(t, { step: c.step, data: c.data, eimTransactionId: c.tx, attempts: c.attempts, ...change }, this.#ctx.now(), this.#o.leaseMs);
  }

  async #advance(t: LeasedTarget): Promise<void> {
    const now = (): number => this.#ctx.now();
    const op = await this.#operation(t.operationId);
    const c: Cursor = { step: t.step, data: { ...t.data }, tx: t.eimTransactionId, attempts: t.attempts };
    const fail = (reason: string): Promise<boolean> => this.#save(t, c, { state: 'failed', nextAt: now(), reason });
    if (op === undefined) {
      await fail('the operation is gone');
      return;
    }
    const steps = op.kind.steps;
    // Every pass moves one step on or returns: a bound, not a loop that could spin.
    for (let pass = 0; pass <= steps.length; pass++) {
      if (c.step >= steps.length) {
        await this.#save(t, c, { state: 'done', nextAt: now() });
        return;
      }
      const device = await this.#ctx.store.getDevice(t.eid);
      if (device === undefined) {
        await fail('the device is no longer registered');
        return;
      }
      const step = steps[c.step]!;
      const s: StepState<unknown> = { ctx: this.#ctx, device, params: op.params, data: c.data };
      const pkg = c.tx === undefined ? undefined : await this.#ctx.store.getPackage(c.tx);
      if (pkg === undefined) {
        // No package yet for this step (or one recorded by a process that stopped before issuing it: the same one now).
        const issued = await this.#issue(t, c, step, s);
        if (issued === 'skipped') continue;
        return;
      }
      if (pkg.state === 'pending' || pkg.state === 'sent') {
        await this.#save(t, c, { state: 'running', nextAt: now() + this.#o.waitMs });
        return;
      }
      const verdict = await step.check(s, pkg);
      if ('next' in verdict) {
        c.data = { ...c.data, ...verdict.next };
        c.step++;
        c.tx = undefined;
        c.attempts = 0;
        continue;
      }
      if ('fail' in verdict) {
        await fail(`${step.name}: ${verdict.fail}`);
        return;
      }
      c.attempts++;
      c.tx = undefined;
      if (c.attempts >= this.#o.maxAttempts) {
        await fail(`${step.name}: ${verdict.retry} (${c.attempts} attempts)`);
        return;
      }
      await this.#save(t, c, { state: 'running', nextAt: now() + this.#backoff(c.attempts), reason: verdict.retry });
      return;
    }
  }

  /**
   * Issues the step's package under an eimTransactionId recorded first: a process stopping between the two leaves the
   * ID in the target, and whoever resumes it issues that same package (the store refuses a second one with the ID).
   */
  async #issue(t: LeasedTarget, c: Cursor, step: Step<unknown>, s: StepState<unknown>): Promise<'skipped' | 'issued' | 'stopped'> {
    const now = this.#ctx.now();
    let plan;
    try {
      plan = await step.plan(s);
    } catch (e) {
      return this.#issueFailed(t, c, step, e);
    }
    if (plan === 'skip') {
      c.step++;
      c.tx = undefined;
      c.attempts = 0;
      return 'skipped';
    }
    if ('fail' in plan) {
      await this.#save(t, c, { state: 'failed', nextAt: now, reason: `${step.name}: ${plan.fail}` });
      return 'stopped';
    }
    if (c.tx === undefined) {
      c.tx = randomBytes(16).toString('hex').toUpperCase();
      if (!(await this.#save(t, c, { state: 'running', nextAt: now, keepLease: true }))) return 'stopped';
    }
    try {
      await this.#issuePackage(s.device.eid, plan, Buffer.from(c.tx, 'hex'));
    } catch (e) {
      return this.#issueFailed(t, c, step, e);
    }
    await this.#save(t, c, { state: 'running', nextAt: this.#ctx.now() + this.#o.waitMs });
    // A result that arrived between the issue and that save found nothing to wake (the save then deferred the target):
    // read once more after it, so a fast device does not wait waitMs. A result after the save wakes the target itself.
    const issued = await this.#ctx.store.getPackage(c.tx);
    if (issued !== undefined && issued.state !== 'pending' && issued.state !== 'sent') this.wake(s.device.eid);
    return 'issued';
  }

  async #issueFailed(t: LeasedTarget, c: Cursor, step: Step<unknown>, e: unknown): Promise<'stopped'> {
    const now = this.#ctx.now();
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof McimError && PERMANENT.has(e.code)) {
      await this.#save(t, c, { state: 'failed', nextAt: now, reason: `${step.name}: ${message}` });
      return 'stopped';
    }
    if (!(e instanceof McimError)) this.#o.onError?.(e);
    c.attempts++;
    if (c.attempts >= this.#o.maxAttempts) {
      await this.#save(t, c, { state: 'failed', nextAt: now, reason: `${step.name}: ${message} (${c.attempts} attempts)` });
    } else {
      await this.#save(t, c, { state: 'running', nextAt: now + this.#backoff(c.attempts), reason: message });
    }
    return 'stopped';
  }

  async #issuePackage(eid: string, plan: StepPackage, eimTransactionId: Buffer): Promise<void> {
    switch (plan.type) {
      case 'psmos':
        await issuePsmos(this.#ctx, eid, plan.psmos, { eimTransactionId });
        return;
      case 'ecos':
        await issueEcos(this.#ctx, eid, plan.ecos, { eimTransactionId });
        return;
      case 'trigger':
        await issueProfileDownloadTrigger(this.#ctx, eid, plan.trigger, { eimTransactionId });
        return;
    }
  }
}
