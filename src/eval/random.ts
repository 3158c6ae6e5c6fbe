// Seeded random numbers. MT19937 seeded like numpy's legacy RandomState(int), so that fold assignment
// (which sklearn draws with RandomState.shuffle) can be reproduced exactly from the same seed.

const N = 624;
const M = 397;

export class MersenneTwister {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i in uint32 arithmetic, split to stay exact in doubles
      mt[i] = ((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i;
    }
  }

  /** Next 32-bit output (numpy's next_uint32 for MT19937). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
        mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits (numpy's random_sample). */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, max] by masked rejection (numpy's random_interval, max < 2^32). */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1; mask |= mask >>> 2; mask |= mask >>> 4; mask |= mask >>> 8; mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    while ((v = (this.nextUint32() & mask) >>> 0) > max);
    return v;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return this.interval(n - 1);
  }

  /** In-place Fisher–Yates with the same draws as numpy's legacy RandomState.shuffle on a 1-D array. */
  shuffle<T>(a: { length: number; [i: number]: T }): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
  }
}
