// Entry point of the bie_engine addon: registers tensor ops, optimizers and (when built with Gloo) c10d.
#include "common.h"
#include <malloc.h>
#include <cstdlib>
#include <cstring>

// glibc hands every allocation over 128 KB (a batch's activations, a checkpoint's tensors) to mmap and gives it back
// with munmap on free, so each batch pays its page faults again: a third of an embedding job's CPU went to the
// kernel. Keeping up to 256 MB of freed heap and serving blocks up to 64 MB from it removes that (measured in
// notes/issue-10.md). BIE_MALLOC=libc keeps glibc's defaults.
static void tuneAllocator() {
  const char* mode = std::getenv("BIE_MALLOC");
  if (mode && std::strcmp(mode, "libc") == 0) return;
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneAllocator();
  bie::initOps(env, exports);
  bie::initOptim(env, exports);
  bie::initDist(env, exports);
  return exports;
}

NODE_API_MODULE(bie_engine, Init)
