/**
 * How many SSE streams one principal (an employee, a guest's conversation) and one client
 * address may hold open in this process. Each stream costs memory and a socket for as long
 * as it lives, so without a cap one token could open thousands. Counted per process: behind
 * a load balancer the effective cap is this times the instances a client reaches.
 */
export interface StreamCapLimits {
  /** SSE_MAX_STREAMS_PER_PRINCIPAL; 0 = no cap. */
  perPrincipal: number;
  /** SSE_MAX_STREAMS_PER_ADDRESS; 0 = no cap. */
  perAddress: number;
}

export type StreamCapRefusal = 'principal' | 'address';

export class StreamCaps {
  private readonly open = new Map<string, number>();

  constructor(private readonly limits: StreamCapLimits) {}

  /** Takes a slot under both keys and returns its release (idempotent), or names the cap that is full. */
  acquire(principalKey: string, address: string): { release: () => void } | { refused: StreamCapRefusal } {
    const addressKey = `address:${address}`;
    const principal = `principal:${principalKey}`;
    if (this.full(principal, this.limits.perPrincipal)) return { refused: 'principal' };
    if (this.full(addressKey, this.limits.perAddress)) return { refused: 'address' };
    this.add(principal, 1);
    this.add(addressKey, 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.add(principal, -1);
        this.add(addressKey, -1);
      },
    };
  }

  private full(key: string, limit: number): boolean {
    return limit > 0 && (this.open.get(key) ?? 0) >= limit;
  }

  private add(key: string, delta: number): void {
    const n = (this.open.get(key) ?? 0) + delta;
    if (n > 0) this.open.set(key, n);
    else this.open.delete(key);
  }
}
