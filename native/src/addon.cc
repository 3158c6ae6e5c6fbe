// Entry point of the bie_engine addon: registers tensor ops, optimizers and (when built with Gloo) c10d.
#include "common.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  bie::initOps(env, exports);
  bie::initOptim(env, exports);
  bie::initDist(env, exports);
  return exports;
}

NODE_API_MODULE(bie_engine, Init)
