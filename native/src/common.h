// Shared helpers of the libtorch binding: tensor handles, argument conversion, error mapping.
#pragma once
#include <napi.h>
#include <torch/torch.h>
#include <string>
#include <vector>

namespace bie {

// A tensor handle is a Napi::External owning a heap at::Tensor; dispose() resets it early,
// the finalizer frees the holder when JS drops the handle.
using Holder = at::Tensor;

inline Napi::Value wrap(Napi::Env env, at::Tensor t) {
  return Napi::External<Holder>::New(env, new Holder(std::move(t)),
                                     [](Napi::Env, Holder* h) { delete h; });
}

inline bool isHandle(const Napi::Value& v) { return v.IsExternal(); }

inline at::Tensor& tensorOf(const Napi::Value& v, const char* what = "tensor") {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), std::string("expected a tensor for ") + what);
  auto* h = v.As<Napi::External<Holder>>().Data();
  if (!h->defined()) throw Napi::Error::New(v.Env(), std::string("tensor used after dispose (") + what + ")");
  return *h;
}

inline std::vector<int64_t> intsOf(const Napi::Value& v) {
  std::vector<int64_t> out;
  if (v.IsNumber()) { out.push_back(v.As<Napi::Number>().Int64Value()); return out; }
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of integers");
  auto a = v.As<Napi::Array>();
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::Number>().Int64Value());
  return out;
}

inline std::vector<at::Tensor> tensorsOf(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of tensors");
  auto a = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(tensorOf(a.Get(i)));
  return out;
}

at::ScalarType dtypeFromName(Napi::Env env, const std::string& name);
std::string dtypeName(at::ScalarType t);

// Run a body and turn libtorch's c10::Error into a JS Error with the op's name and the message only.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* name, F&& body) {
  try {
    return body();
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), std::string(name) + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    if (dynamic_cast<const Napi::Error*>(&e)) throw;
    throw Napi::Error::New(info.Env(), std::string(name) + ": " + e.what());
  }
}

void initOps(Napi::Env env, Napi::Object exports);
void initOptim(Napi::Env env, Napi::Object exports);
void initDist(Napi::Env env, Napi::Object exports);

}  // namespace bie
