// Optimizer steps over lists of tensors, one native call per step. State (moments, momentum) lives in
// tensors owned by TypeScript so it can be checkpointed with the weights and resumed exactly.
#include "common.h"
#include <cmath>

namespace bie {
namespace {

double num(const Napi::Object& o, const char* k, double def) {
  auto v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
}
bool flag(const Napi::Object& o, const char* k) { return o.Get(k).ToBoolean().Value(); }

// adamStep(params, expAvg, expAvgSq, {lr, beta1, beta2, eps, weightDecay, decoupled, step})
// Matches torch.optim.Adam (decoupled=false) and torch.optim.AdamW (decoupled=true), non-amsgrad.
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  return guarded(info, "adamStep", [&]() {
    torch::NoGradGuard ng;
    auto ps = tensorsOf(info[0]), ms = tensorsOf(info[1]), vs = tensorsOf(info[2]);
    auto o = info[3].As<Napi::Object>();
    double lr = num(o, "lr", 1e-3), b1 = num(o, "beta1", 0.9), b2 = num(o, "beta2", 0.999);
    double eps = num(o, "eps", 1e-8), wd = num(o, "weightDecay", 0), step = num(o, "step", 1);
    bool decoupled = flag(o, "decoupled");
    double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
    double stepSize = lr / bc1, bc2sqrt = std::sqrt(bc2);
    for (size_t i = 0; i < ps.size(); i++) {
      auto& p = ps[i];
      auto g = p.grad();
      if (!g.defined()) continue;
      if (wd != 0) {
        if (decoupled) p.mul_(1 - lr * wd);
        else g = g.add(p, wd);
      }
      ms[i].mul_(b1).add_(g, 1 - b1);
      vs[i].mul_(b2).addcmul_(g, g, 1 - b2);
      auto denom = (vs[i].sqrt() / bc2sqrt).add_(eps);
      p.addcdiv_(ms[i], denom, -stepSize);
    }
    return info.Env().Undefined();
  });
}

// lambStep: Adam moments with bias correction, then a per-tensor trust ratio ||w|| / ||update||
// (You et al. 2020), weight decay inside the update.
Napi::Value LambStep(const Napi::CallbackInfo& info) {
  return guarded(info, "lambStep", [&]() {
    torch::NoGradGuard ng;
    auto ps = tensorsOf(info[0]), ms = tensorsOf(info[1]), vs = tensorsOf(info[2]);
    auto o = info[3].As<Napi::Object>();
    double lr = num(o, "lr", 1e-3), b1 = num(o, "beta1", 0.9), b2 = num(o, "beta2", 0.999);
    double eps = num(o, "eps", 1e-6), wd = num(o, "weightDecay", 0), step = num(o, "step", 1);
    double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
    for (size_t i = 0; i < ps.size(); i++) {
      auto& p = ps[i];
      auto g = p.grad();
      if (!g.defined()) continue;
      ms[i].mul_(b1).add_(g, 1 - b1);
      vs[i].mul_(b2).addcmul_(g, g, 1 - b2);
      auto update = (ms[i] / bc1) / ((vs[i] / bc2).sqrt().add_(eps));
      if (wd != 0) update.add_(p, wd);
      double wn = p.norm().item<double>(), un = update.norm().item<double>();
      double trust = (wn > 0 && un > 0) ? wn / un : 1.0;
      p.add_(update, -lr * trust);
    }
    return info.Env().Undefined();
  });
}

// sgdStep(params, momentumBufs, {lr, momentum, weightDecay, nesterov, step}) as torch.optim.SGD (dampening 0).
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  return guarded(info, "sgdStep", [&]() {
    torch::NoGradGuard ng;
    auto ps = tensorsOf(info[0]), bufs = tensorsOf(info[1]);
    auto o = info[2].As<Napi::Object>();
    double lr = num(o, "lr", 1e-2), mom = num(o, "momentum", 0), wd = num(o, "weightDecay", 0), step = num(o, "step", 1);
    bool nesterov = flag(o, "nesterov");
    for (size_t i = 0; i < ps.size(); i++) {
      auto& p = ps[i];
      auto g = p.grad();
      if (!g.defined()) continue;
      if (wd != 0) g = g.add(p, wd);
      if (mom != 0) {
        if (step <= 1) bufs[i].copy_(g);
        else bufs[i].mul_(mom).add_(g);
        g = nesterov ? g.add(bufs[i], mom) : bufs[i];
      }
      p.add_(g, -lr);
    }
    return info.Env().Undefined();
  });
}

// clipGradNorm(params, maxNorm) -> total norm before clipping (L2 over all grads).
Napi::Value ClipGradNorm(const Napi::CallbackInfo& info) {
  return guarded(info, "clipGradNorm", [&]() {
    auto ps = tensorsOf(info[0]);
    double maxNorm = info[1].As<Napi::Number>().DoubleValue();
    double total = torch::nn::utils::clip_grad_norm_(ps, maxNorm);
    return Napi::Number::New(info.Env(), total);
  });
}

}  // namespace

void initOptim(Napi::Env env, Napi::Object e) {
  e.Set("adamStep", Napi::Function::New(env, AdamStep));
  e.Set("lambStep", Napi::Function::New(env, LambStep));
  e.Set("sgdStep", Napi::Function::New(env, SgdStep));
  e.Set("clipGradNorm", Napi::Function::New(env, ClipGradNorm));
}

}  // namespace bie
