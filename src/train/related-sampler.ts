// The group sampler: an epoch's batch plan in which members of a group come together (P groups × K members per
// batch), so the contrastive term finds positives in every batch. Like the plain shuffle it is a function of
// (seed, epoch) only and uses every item exactly once per epoch, so resuming and data-parallel sharding work as
// before.
import { Rng, hash32 } from "../data/index.ts";

const GROUP_STREAM = 0x9b0c5;

/**
 * indices: the part's dataset indices; keys: group number per dataset index; k: members drawn together.
 * Each group's members are shuffled and cut into chunks of k; the chunks are shuffled and laid end to end, then
 * cut into batches. With batchSize a multiple of k, a chunk is split over two batches only after a group's
 * short last chunk (fewer than k members) shifts the rest.
 */
export function groupBatchPlan(indices: readonly number[], keys: ArrayLike<number>, k: number, batchSize: number, seed: number, epoch: number): number[][] {
  const rng = new Rng(hash32(seed, epoch, GROUP_STREAM));
  const byGroup = new Map<number, number[]>();
  for (const i of indices) {
    const g = keys[i];
    const list = byGroup.get(g);
    if (list) list.push(i);
    else byGroup.set(g, [i]);
  }
  // Full chunks first in the shuffled order of the groups, then the short leftovers, so most batches are aligned.
  const full: number[][] = [], short: number[][] = [];
  for (const g of [...byGroup.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle(byGroup.get(g)!);
    for (let s = 0; s < members.length; s += k) (members.length - s >= k ? full : short).push(members.slice(s, s + k));
  }
  rng.shuffle(full);
  rng.shuffle(short);
  // Leftovers of several groups are packed together (a short chunk still holds positives when it has 2+ members).
  const order = [...full, ...short].flat();
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out; // the last batch may be partial (the loader drops it in training, as with the plain shuffle)
}
