// Starting libtorch's kernels costs about a quarter of a second on the first convolution (thread pool, oneDNN's
// primitive cache and its JIT). A process that waits for work (a queue worker's sandbox) pays it while idle, so
// its first job starts as fast as the next. No random numbers are drawn: the RNG state stays as it was.
import * as F from "./functional.ts";
import { ones, zeros } from "./tensor.ts";
import { noGrad } from "./runtime.ts";
import { tidy } from "./scope.ts";

export function warmUp(): void {
  noGrad(() => tidy(() => void F.conv2d(zeros([1, 3, 16, 16]), ones([8, 3, 3, 3]), null, 1, 1)));
}
