// Data-parallel collectives on libtorch's c10d: a TCPStore for rendezvous and a Gloo process group that
// all-reduces / broadcasts CPU tensors between processes (and machines). Built only with -DUSE_C10D_GLOO;
// without it the addon has no `dist` export and the TypeScript side says so.
#include "common.h"

#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>

namespace bie {
namespace {

using Ms = std::chrono::milliseconds;

// One process group: the store (rank 0 serves it) and the Gloo group built on it.
struct Group {
  int64_t id = 0;
  int rank = 0;
  int size = 1;
  Ms timeout{60000};
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};
using GroupPtr = std::shared_ptr<Group>;
using WorkPtr = c10::intrusive_ptr<c10d::Work>;

// Groups by id, so the differentiable all-reduce (an autograd node) can find its group without holding JS values.
std::mutex gMu;
std::map<int64_t, GroupPtr> gGroups;
std::atomic<int64_t> gNextId{1};

GroupPtr groupById(int64_t id) {
  std::lock_guard<std::mutex> l(gMu);
  auto it = gGroups.find(id);
  if (it == gGroups.end() || !it->second->pg) throw std::runtime_error("the process group was destroyed");
  return it->second;
}

GroupPtr groupOf(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected a process group");
  auto g = *v.As<Napi::External<GroupPtr>>().Data();
  if (!g->pg) throw Napi::Error::New(v.Env(), "the process group was destroyed");
  return g;
}

bool isLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// Gloo's transport device: the interface named by GLOO_SOCKET_IFNAME (as in PyTorch), loopback when the master
// is on this machine's loopback, else the address this machine's hostname resolves to.
std::shared_ptr<::gloo::transport::Device> makeDevice(const std::string& master) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (isLoopback(master)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// Say which collective failed and why in one line, pointing at the likely cause (a peer died or hangs).
[[noreturn]] void rethrowCollective(const Group& g, const char* what, const std::exception& e) {
  std::string msg = e.what();
  if (auto* ce = dynamic_cast<const c10::Error*>(&e)) msg = ce->what_without_backtrace();
  auto nl = msg.find('\n');
  if (nl != std::string::npos) msg = msg.substr(0, nl);
  throw std::runtime_error(std::string(what) + " failed on rank " + std::to_string(g.rank) + " of " + std::to_string(g.size) +
                           " (collective timeout " + std::to_string(g.timeout.count()) + " ms): " + msg);
}

void waitAll(const Group& g, const char* what, std::vector<WorkPtr>& works) {
  // Wait for every launched work even after a failure, so no Gloo thread still writes into our buffers.
  std::exception_ptr first;
  for (auto& w : works) {
    try {
      w->wait();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) {
    try {
      std::rethrow_exception(first);
    } catch (const std::exception& e) {
      rethrowCollective(g, what, e);
    }
  }
}

c10d::ReduceOp reduceOpOf(const std::string& op) {
  if (op == "sum" || op == "avg") return c10d::ReduceOp::SUM;
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  if (op == "product") return c10d::ReduceOp::PRODUCT;
  throw std::invalid_argument("unknown reduce op '" + op + "' (sum, avg, max, min, product)");
}

// Tensors split into buckets of one dtype and at most `bucketBytes` (a tensor larger than that is a bucket alone).
std::vector<std::vector<size_t>> bucketsOf(const std::vector<at::Tensor>& ts, int64_t bucketBytes) {
  std::vector<std::vector<size_t>> out;
  std::map<at::ScalarType, size_t> open;  // dtype -> index of its open bucket in out
  std::map<at::ScalarType, int64_t> fill;
  for (size_t i = 0; i < ts.size(); i++) {
    auto dt = ts[i].scalar_type();
    int64_t bytes = ts[i].numel() * static_cast<int64_t>(ts[i].element_size());
    auto it = open.find(dt);
    if (it == open.end() || fill[dt] + bytes > bucketBytes) {
      out.push_back({});
      open[dt] = out.size() - 1;
      fill[dt] = 0;
    }
    out[open[dt]].push_back(i);
    fill[dt] += bytes;
  }
  return out;
}

// A bucket in flight: either one contiguous tensor reduced in place, or a flat copy written back when done.
struct Flight {
  std::vector<at::Tensor> members;
  at::Tensor flat;
  bool direct = false;
};

Flight packBucket(const std::vector<at::Tensor>& ts, const std::vector<size_t>& idx) {
  Flight f;
  for (auto i : idx) f.members.push_back(ts[i]);
  if (f.members.size() == 1 && f.members[0].is_contiguous()) {
    f.direct = true;
    f.flat = f.members[0];
    return f;
  }
  std::vector<at::Tensor> parts;
  for (auto& t : f.members) parts.push_back(t.reshape({-1}));
  f.flat = at::cat(parts);
  return f;
}

void unpackBucket(Flight& f) {
  if (f.direct) return;
  int64_t off = 0;
  for (auto& t : f.members) {
    t.copy_(f.flat.narrow(0, off, t.numel()).view(t.sizes()));
    off += t.numel();
  }
}

void checkTensors(const std::vector<at::Tensor>& ts) {
  for (auto& t : ts) {
    if (!t.device().is_cpu()) throw std::invalid_argument("collectives here take CPU tensors (Gloo)");
    if (t.is_sparse()) throw std::invalid_argument("collectives here take dense tensors");
  }
}

// In-place all-reduce of a list of tensors, bucketed: all buckets are launched before any is awaited so Gloo
// overlaps them. scale multiplies before the reduction (weights per rank); avg divides the sum by the group size.
void allReduceList(const Group& g, std::vector<at::Tensor>& ts, const std::string& op, int64_t bucketBytes, double scale) {
  torch::NoGradGuard ng;
  checkTensors(ts);
  auto rop = reduceOpOf(op);
  std::vector<Flight> flights;
  std::vector<WorkPtr> works;
  for (auto& idx : bucketsOf(ts, bucketBytes)) {
    flights.push_back(packBucket(ts, idx));
    auto& f = flights.back();
    if (scale != 1.0) f.flat.mul_(scale);
    std::vector<at::Tensor> one{f.flat};
    c10d::AllreduceOptions o;
    o.reduceOp = rop;
    works.push_back(g.pg->allreduce(one, o));
  }
  waitAll(g, "all-reduce", works);
  for (auto& f : flights) {
    if (op == "avg") {
      if (at::isFloatingType(f.flat.scalar_type())) f.flat.div_(g.size);
      else f.flat.div_(g.size, "floor");
    }
    unpackBucket(f);
  }
}

void broadcastList(const Group& g, std::vector<at::Tensor>& ts, int root, int64_t bucketBytes) {
  torch::NoGradGuard ng;
  checkTensors(ts);
  std::vector<Flight> flights;
  std::vector<WorkPtr> works;
  for (auto& idx : bucketsOf(ts, bucketBytes)) {
    flights.push_back(packBucket(ts, idx));
    std::vector<at::Tensor> one{flights.back().flat};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    works.push_back(g.pg->broadcast(one, o));
  }
  waitAll(g, "broadcast", works);
  if (g.rank != root)
    for (auto& f : flights) unpackBucket(f);
}

// Gradient averaging in buckets, overlapped with backward: a hook on each parameter's gradient accumulator marks
// it ready; a bucket whose parameters are all ready is packed and its all-reduce launched at once (in bucket order,
// the same on every rank) while autograd goes on with earlier layers. Buckets follow reverse parameter order, the
// order backward produces gradients in. Each bucket carries one flag per parameter ("had a gradient here"), so a
// parameter unused on some ranks gets zeros there (as in PyTorch's DDP) and one unused everywhere keeps none.
struct GradSync : std::enable_shared_from_this<GradSync> {
  GroupPtr g;
  std::vector<at::Tensor> params;
  std::vector<std::vector<size_t>> buckets;  // parameter indices
  std::vector<size_t> bucketOf;
  std::vector<std::shared_ptr<torch::autograd::Node>> accs;
  std::vector<uintptr_t> hookKeys;
  std::vector<int> pending;
  std::vector<char> ready;
  std::vector<at::Tensor> flats;
  std::vector<WorkPtr> works;
  size_t nextLaunch = 0;
  bool armed = false;
  std::exception_ptr launchError;

  void build(int64_t bucketBytes) {
    std::vector<at::Tensor> rev(params.rbegin(), params.rend());
    bucketOf.assign(params.size(), 0);
    for (auto& b : bucketsOf(rev, bucketBytes)) {
      buckets.push_back({});
      for (auto j : b) {
        size_t i = params.size() - 1 - j;
        buckets.back().push_back(i);
        bucketOf[i] = buckets.size() - 1;
      }
    }
  }

  void hook(bool overlap) {
    if (!overlap) return;
    std::weak_ptr<GradSync> weak = shared_from_this();
    for (size_t i = 0; i < params.size(); i++) {
      if (!params[i].requires_grad()) {
        accs.push_back(nullptr);
        hookKeys.push_back(0);
        continue;
      }
      auto acc = torch::autograd::impl::grad_accumulator(params[i]);
      hookKeys.push_back(acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
          [weak, i](const torch::autograd::variable_list& out, const torch::autograd::variable_list&) {
            if (auto s = weak.lock()) s->markReady(i);
            return out;
          })));
      accs.push_back(acc);  // holding the accumulator keeps the same node (and our hook) for every graph
    }
  }

  void unhook() {
    for (size_t i = 0; i < accs.size(); i++)
      if (accs[i]) accs[i]->del_post_hook(hookKeys[i]);
    accs.clear();
    hookKeys.clear();
  }

  void drain() {
    for (auto& w : works)
      if (w) try { w->wait(); } catch (...) {}
    works.assign(buckets.size(), WorkPtr());
  }

  void arm() {
    drain();  // a failed earlier step may have left buckets in flight
    pending.clear();
    for (auto& b : buckets) pending.push_back(static_cast<int>(b.size()));
    ready.assign(params.size(), 0);
    flats.assign(buckets.size(), at::Tensor());
    works.assign(buckets.size(), WorkPtr());
    nextLaunch = 0;
    launchError = nullptr;
    armed = true;
  }

  void markReady(size_t i) {
    if (!armed || ready[i]) return;
    ready[i] = 1;
    pending[bucketOf[i]]--;
    while (nextLaunch < buckets.size() && pending[nextLaunch] == 0) launch(nextLaunch++);
  }

  void launch(size_t b) {
    if (launchError) return;
    try {
      torch::NoGradGuard ng;
      auto& idx = buckets[b];
      auto dt = params[idx[0]].scalar_type();
      std::vector<at::Tensor> parts;
      auto flags = torch::zeros({static_cast<int64_t>(idx.size())}, torch::TensorOptions().dtype(dt));
      for (size_t k = 0; k < idx.size(); k++) {
        auto gr = params[idx[k]].grad();
        if (gr.defined()) {
          parts.push_back(gr.reshape({-1}));
          flags[k] = 1;
        } else {
          parts.push_back(torch::zeros({params[idx[k]].numel()}, torch::TensorOptions().dtype(dt)));
        }
      }
      parts.push_back(flags);
      flats[b] = at::cat(parts);
      std::vector<at::Tensor> one{flats[b]};
      works[b] = g->pg->allreduce(one);
    } catch (...) {
      launchError = std::current_exception();
    }
  }

  // After backward: launch what is left (buckets with unused parameters), wait, average, write back.
  // Returns how many buckets were already on their way before backward returned (the overlap achieved).
  // average=false when the losses were already divided by the group size (saves a pass over the buckets).
  size_t finish(bool average = true) {
    if (!armed) throw std::runtime_error("gradient sync finished without being armed before backward");
    armed = false;
    size_t early = nextLaunch;
    while (nextLaunch < buckets.size()) launch(nextLaunch++);
    if (launchError) {
      drain();
      std::rethrow_exception(launchError);
    }
    std::vector<WorkPtr> all(works.begin(), works.end());
    works.assign(buckets.size(), WorkPtr());
    waitAll(*g, "gradient all-reduce", all);
    torch::NoGradGuard ng;
    for (size_t b = 0; b < buckets.size(); b++) {
      auto& idx = buckets[b];
      auto& flat = flats[b];
      if (average) flat.div_(g->size);
      int64_t off = 0;
      auto flags = flat.narrow(0, flat.numel() - static_cast<int64_t>(idx.size()), static_cast<int64_t>(idx.size())).to(at::kFloat);
      auto* f = flags.data_ptr<float>();
      for (size_t k = 0; k < idx.size(); k++) {
        auto& p = params[idx[k]];
        auto piece = flat.narrow(0, off, p.numel()).view(p.sizes());
        off += p.numel();
        if (f[k] == 0.f) {
          p.mutable_grad().reset();
          continue;
        }
        // The gradient becomes a view into the bucket (no copy back) when the layouts agree, as DDP's
        // gradient_as_bucket_view; the bucket lives until the next zeroGrad drops these views.
        if (p.is_contiguous()) p.mutable_grad() = piece;
        else {
          if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
          p.mutable_grad().copy_(piece);
        }
      }
      flat = at::Tensor();
    }
    return early;
  }
};
using GradSyncPtr = std::shared_ptr<GradSync>;

GradSyncPtr makeGradSync(const GroupPtr& g, std::vector<at::Tensor> params, int64_t bucketBytes, bool overlap) {
  auto s = std::make_shared<GradSync>();
  s->g = g;
  s->params = std::move(params);
  s->build(bucketBytes);
  s->hook(overlap);
  return s;
}

// Sum over ranks whose backward is again a sum over ranks: the building block of synchronised batch norm
// (every rank's loss depends on the global statistics, so every rank's gradient reaches every rank).
struct AllReduceSumFn : public torch::autograd::Function<AllReduceSumFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, at::Tensor x, int64_t groupId) {
    ctx->saved_data["group"] = groupId;
    auto g = groupById(groupId);
    std::vector<at::Tensor> y{x.contiguous().clone()};
    allReduceList(*g, y, "sum", INT64_MAX, 1.0);
    return y[0];
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto g = groupById(ctx->saved_data["group"].toInt());
    std::vector<at::Tensor> y{grads[0].contiguous().clone()};
    allReduceList(*g, y, "sum", INT64_MAX, 1.0);
    return {y[0], at::Tensor()};
  }
};

std::string str(const Napi::Object& o, const char* k, const std::string& def) {
  auto v = o.Get(k);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : def;
}
double num(const Napi::Object& o, const char* k, double def) {
  auto v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
}
Napi::Object optsAt(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsObject() ? info[i].As<Napi::Object>() : Napi::Object::New(info.Env());
}

// init({host, port, worldSize, rank, timeoutMs, threads}) -> group handle. Blocks until every rank has joined
// (or the timeout passes): rank 0 serves the TCP store, the others connect to it, then Gloo connects the mesh.
Napi::Value Init(const Napi::CallbackInfo& info) {
  return guarded(info, "dist.init", [&]() {
    auto o = optsAt(info, 0);
    auto g = std::make_shared<Group>();
    std::string host = str(o, "host", "127.0.0.1");
    int port = static_cast<int>(num(o, "port", 29500));
    g->size = static_cast<int>(num(o, "worldSize", 1));
    g->rank = static_cast<int>(num(o, "rank", 0));
    g->timeout = Ms(static_cast<int64_t>(num(o, "timeoutMs", 60000)));
    if (g->size < 1 || g->rank < 0 || g->rank >= g->size)
      throw std::invalid_argument("rank " + std::to_string(g->rank) + " is outside world size " + std::to_string(g->size));
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(port);
    so.isServer = g->rank == 0;
    so.numWorkers = static_cast<size_t>(g->size);
    so.waitWorkers = true;
    so.timeout = g->timeout;
    try {
      g->store = c10::make_intrusive<c10d::TCPStore>(host, so);
    } catch (const std::exception& e) {
      std::string msg = e.what();
      if (auto* ce = dynamic_cast<const c10::Error*>(&e)) msg = ce->what_without_backtrace();
      throw std::runtime_error("rendezvous at " + host + ":" + std::to_string(port) + " as rank " + std::to_string(g->rank) + " of " +
                               std::to_string(g->size) + " failed: " + msg.substr(0, msg.find('\n')));
    }
    auto po = c10d::ProcessGroupGloo::Options::create(g->timeout);
    po->devices.push_back(makeDevice(host));
    po->threads = static_cast<int>(num(o, "threads", 2));
    try {
      g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, g->rank, g->size, po);
    } catch (const std::exception& e) {
      rethrowCollective(*g, "connecting the process group", e);
    }
    g->id = gNextId++;
    {
      std::lock_guard<std::mutex> l(gMu);
      gGroups[g->id] = g;
    }
    return Napi::External<GroupPtr>::New(info.Env(), new GroupPtr(g), [](Napi::Env, GroupPtr* p) { delete p; });
  });
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto g = groupOf(info[0]);
  auto o = Napi::Object::New(info.Env());
  o.Set("rank", g->rank);
  o.Set("worldSize", g->size);
  o.Set("timeoutMs", static_cast<double>(g->timeout.count()));
  o.Set("id", static_cast<double>(g->id));
  return o;
}

// allReduce(group, tensors, {op, bucketBytes, scale}) in place.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  return guarded(info, "dist.allReduce", [&]() {
    auto g = groupOf(info[0]);
    auto ts = tensorsOf(info[1]);
    auto o = optsAt(info, 2);
    allReduceList(*g, ts, str(o, "op", "sum"), static_cast<int64_t>(num(o, "bucketBytes", 25 << 20)), num(o, "scale", 1.0));
    return info.Env().Undefined();
  });
}

// allReduceGrads(group, params, {bucketBytes}): average .grad over ranks after backward (no overlap).
Napi::Value AllReduceGrads(const Napi::CallbackInfo& info) {
  return guarded(info, "dist.allReduceGrads", [&]() {
    auto g = groupOf(info[0]);
    auto o = optsAt(info, 2);
    auto s = makeGradSync(g, tensorsOf(info[1]), static_cast<int64_t>(num(o, "bucketBytes", 25 << 20)), false);
    s->arm();
    s->finish();
    return info.Env().Undefined();
  });
}

GradSyncPtr syncOf(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected a gradient sync handle");
  return *v.As<Napi::External<GradSyncPtr>>().Data();
}

// gradSync(group, params, {bucketBytes}) -> handle whose hooks launch bucket all-reduces during backward.
Napi::Value GradSyncNew(const Napi::CallbackInfo& info) {
  return guarded(info, "dist.gradSync", [&]() {
    auto g = groupOf(info[0]);
    auto o = optsAt(info, 2);
    auto s = makeGradSync(g, tensorsOf(info[1]), static_cast<int64_t>(num(o, "bucketBytes", 25 << 20)), true);
    return Napi::External<GradSyncPtr>::New(info.Env(), new GradSyncPtr(s), [](Napi::Env, GradSyncPtr* p) {
      (*p)->drain();
      (*p)->unhook();
      delete p;
    });
  });
}
// gradSyncArm(handle): call right before backward.
Napi::Value GradSyncArm(const Napi::CallbackInfo& info) {
  return guarded(info, "dist.gradSyncArm", [&]() {
    syncOf(info[0])->arm();
    return info.Env().Undefined();
  });
}
// gradSyncFinish(handle, {average}): call after backward; returns when every gradient holds its sum over ranks,
// divided by the group size unless average is false.
Napi::Value GradSyncFinish(const Napi::CallbackInfo& info) {
  return guarded(info, "dist.gradSyncFinish", [&]() {
    auto o = optsAt(info, 1);
    bool average = !o.Has("average") || o.Get("average").ToBoolean().Value();
    return Napi::Number::New(info.Env(), static_cast<double>(syncOf(info[0])->finish(average)));
  });
}
Napi::Value GradSyncDispose(const Napi::CallbackInfo& info) {
  auto s = syncOf(info[0]);
  s->drain();
  s->unhook();
  return info.Env().Undefined();
}

// broadcast(group, tensors, {root, bucketBytes}) in place: every rank ends with root's values.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  return guarded(info, "dist.broadcast", [&]() {
    auto g = groupOf(info[0]);
    auto ts = tensorsOf(info[1]);
    auto o = optsAt(info, 2);
    broadcastList(*g, ts, static_cast<int>(num(o, "root", 0)), static_cast<int64_t>(num(o, "bucketBytes", 25 << 20)));
    return info.Env().Undefined();
  });
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  return guarded(info, "dist.barrier", [&]() {
    auto g = groupOf(info[0]);
    std::vector<WorkPtr> works{g->pg->barrier()};
    waitAll(*g, "barrier", works);
    return info.Env().Undefined();
  });
}

// allReduceSum(group, tensor) -> new tensor, differentiable (backward all-reduces the gradient).
Napi::Value AllReduceSumAutograd(const Napi::CallbackInfo& info) {
  return guarded(info, "dist.allReduceSum", [&]() {
    auto g = groupOf(info[0]);
    return wrap(info.Env(), AllReduceSumFn::apply(tensorOf(info[1]), g->id));
  });
}

// destroy(group): drop the Gloo group and the store (rank 0 stops serving). Later calls on it are errors.
Napi::Value Destroy(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) return info.Env().Undefined();
  auto g = *info[0].As<Napi::External<GroupPtr>>().Data();
  {
    std::lock_guard<std::mutex> l(gMu);
    gGroups.erase(g->id);
  }
  g->pg.reset();
  g->store.reset();
  return info.Env().Undefined();
}

}  // namespace

void initDist(Napi::Env env, Napi::Object exports) {
  auto d = Napi::Object::New(env);
  d.Set("init", Napi::Function::New(env, Init));
  d.Set("info", Napi::Function::New(env, Info));
  d.Set("allReduce", Napi::Function::New(env, AllReduce));
  d.Set("allReduceGrads", Napi::Function::New(env, AllReduceGrads));
  d.Set("gradSync", Napi::Function::New(env, GradSyncNew));
  d.Set("gradSyncArm", Napi::Function::New(env, GradSyncArm));
  d.Set("gradSyncFinish", Napi::Function::New(env, GradSyncFinish));
  d.Set("gradSyncDispose", Napi::Function::New(env, GradSyncDispose));
  d.Set("broadcast", Napi::Function::New(env, Broadcast));
  d.Set("barrier", Napi::Function::New(env, Barrier));
  d.Set("allReduceSum", Napi::Function::New(env, AllReduceSumAutograd));
  d.Set("destroy", Napi::Function::New(env, Destroy));
  exports.Set("dist", d);
}

}  // namespace bie

#else

namespace bie {
// Built without Gloo: no `dist` export; src/engine/dist.ts explains how to rebuild with it.
void initDist(Napi::Env, Napi::Object) {}
}  // namespace bie

#endif
