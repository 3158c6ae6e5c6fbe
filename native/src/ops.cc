// Tensors, data exchange and the generic op call: any ATen operator is reachable by its schema name
// ("aten::conv2d", "aten::add.Tensor"); arguments are converted from JS by the operator's own schema,
// so autograd, autocast and every kernel libtorch has come for free.
#include "common.h"
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/autocast_mode.h>
#include <unordered_map>
#include <cstring>
#include <cmath>

namespace bie {

at::ScalarType dtypeFromName(Napi::Env env, const std::string& n) {
  if (n == "float32") return at::kFloat;
  if (n == "float64") return at::kDouble;
  if (n == "bfloat16") return at::kBFloat16;
  if (n == "float16") return at::kHalf;
  if (n == "int64") return at::kLong;
  if (n == "int32") return at::kInt;
  if (n == "int16") return at::kShort;
  if (n == "int8") return at::kChar;
  if (n == "uint8") return at::kByte;
  if (n == "bool") return at::kBool;
  throw Napi::TypeError::New(env, "unknown dtype '" + n + "'");
}

std::string dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return "unsupported";
  }
}

namespace {

std::vector<c10::OperatorHandle> gOps;

// Converts one JS value to an IValue of the schema's declared type.
c10::IValue toIValue(Napi::Env env, const Napi::Value& v, const c10::TypePtr& type, const std::string& argName) {
  using K = c10::TypeKind;
  auto kind = type->kind();
  if (kind == K::OptionalType) {
    if (v.IsNull() || v.IsUndefined()) return c10::IValue();
    return toIValue(env, v, type->castRaw<c10::OptionalType>()->getElementType(), argName);
  }
  switch (kind) {
    case K::TensorType:
      return tensorOf(v, argName.c_str());
    case K::IntType:
    case K::SymIntType:
      if (v.IsString()) {  // dtype or memory format given by name
        auto s = v.As<Napi::String>().Utf8Value();
        if (s == "contiguous") return static_cast<int64_t>(at::MemoryFormat::Contiguous);
        if (s == "channels_last") return static_cast<int64_t>(at::MemoryFormat::ChannelsLast);
        if (s == "preserve") return static_cast<int64_t>(at::MemoryFormat::Preserve);
        return static_cast<int64_t>(dtypeFromName(env, s));
      }
      if (v.IsBoolean()) return static_cast<int64_t>(v.As<Napi::Boolean>().Value());
      return v.As<Napi::Number>().Int64Value();
    case K::FloatType:
      return v.As<Napi::Number>().DoubleValue();
    case K::BoolType:
      return v.ToBoolean().Value();
    case K::NumberType:
      if (v.IsBoolean()) return c10::IValue(at::Scalar(v.As<Napi::Boolean>().Value()));
      {
        // Integer-valued numbers become integer scalars (as Python ints do), so int tensors stay int.
        double d = v.As<Napi::Number>().DoubleValue();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return c10::IValue(at::Scalar(static_cast<int64_t>(d)));
        return c10::IValue(at::Scalar(d));
      }
    case K::StringType:
      return v.As<Napi::String>().Utf8Value();
    case K::ListType: {
      auto elem = type->castRaw<c10::ListType>()->getElementType();
      auto ek = elem->kind();
      if (ek == K::IntType || ek == K::SymIntType) {
        c10::List<int64_t> l;
        for (auto x : intsOf(v)) l.push_back(x);
        return l;
      }
      if (ek == K::FloatType) {
        c10::List<double> l;
        auto a = v.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) l.push_back(a.Get(i).As<Napi::Number>().DoubleValue());
        return l;
      }
      if (ek == K::BoolType) {
        auto a = v.As<Napi::Array>();
        std::vector<bool> b;
        for (uint32_t i = 0; i < a.Length(); i++) b.push_back(a.Get(i).ToBoolean().Value());
        c10::List<bool> l;
        for (bool x : b) l.push_back(x);
        return l;
      }
      if (ek == K::TensorType) {
        c10::List<at::Tensor> l;
        for (auto& t : tensorsOf(v)) l.push_back(t);
        return l;
      }
      if (ek == K::OptionalType) {  // Tensor?[] (indexing)
        c10::List<c10::optional<at::Tensor>> l;
        auto a = v.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) {
          auto e = a.Get(i);
          if (e.IsNull() || e.IsUndefined()) l.push_back(c10::nullopt);
          else l.push_back(tensorOf(e));
        }
        return l;
      }
      break;
    }
    default:
      break;
  }
  throw Napi::TypeError::New(env, "argument '" + argName + "' has a type the binding cannot pass: " + type->str());
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& iv) {
  if (iv.isTensor()) return wrap(env, iv.toTensor());
  if (iv.isNone()) return env.Null();
  if (iv.isDouble()) return Napi::Number::New(env, iv.toDouble());
  if (iv.isInt()) return Napi::Number::New(env, static_cast<double>(iv.toInt()));
  if (iv.isBool()) return Napi::Boolean::New(env, iv.toBool());
  if (iv.isTensorList()) {
    auto l = iv.toTensorVector();
    auto a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); i++) a.Set(i, wrap(env, l[i]));
    return a;
  }
  if (iv.isTuple()) {
    auto& el = iv.toTupleRef().elements();
    auto a = Napi::Array::New(env, el.size());
    for (size_t i = 0; i < el.size(); i++) a.Set(i, fromIValue(env, el[i]));
    return a;
  }
  if (iv.isIntList()) {
    auto l = iv.toIntVector();
    auto a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); i++) a.Set(i, Napi::Number::New(env, static_cast<double>(l[i])));
    return a;
  }
  throw Napi::TypeError::New(env, "op returned a value the binding cannot convert: " + iv.tagKind());
}

// opId(name) -> integer id; schema lookups happen once per op.
Napi::Value OpId(const Napi::CallbackInfo& info) {
  auto full = info[0].As<Napi::String>().Utf8Value();
  auto dot = full.find('.');
  std::string name = dot == std::string::npos ? full : full.substr(0, dot);
  std::string overload = dot == std::string::npos ? "" : full.substr(dot + 1);
  if (name.find("::") == std::string::npos) name = "aten::" + name;
  auto h = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!h) throw Napi::Error::New(info.Env(), "no such operator in this libtorch: " + full);
  gOps.push_back(*h);
  return Napi::Number::New(info.Env(), static_cast<double>(gOps.size() - 1));
}

// call(id, args[, discardResult]) -> result (tensor | array | number | null)
Napi::Value Call(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto id = info[0].As<Napi::Number>().Uint32Value();
  if (id >= gOps.size()) throw Napi::Error::New(env, "bad op id");
  auto& op = gOps[id];
  const auto& schema = op.schema();
  return guarded(info, schema.name().c_str(), [&]() -> Napi::Value {
    auto args = info[1].As<Napi::Array>();
    const auto& formals = schema.arguments();
    if (args.Length() > formals.size())
      throw Napi::Error::New(env, schema.name() + ": too many arguments (" + std::to_string(args.Length()) + ")");
    torch::jit::Stack stack;
    stack.reserve(formals.size());
    for (size_t i = 0; i < formals.size(); i++) {
      const auto& f = formals[i];
      Napi::Value v = i < args.Length() ? args.Get(i) : env.Undefined();
      if (v.IsUndefined()) {
        if (f.default_value()) { stack.push_back(*f.default_value()); continue; }
        if (f.type()->kind() == c10::TypeKind::OptionalType) { stack.emplace_back(); continue; }
        throw Napi::Error::New(env, schema.name() + ": missing argument '" + f.name() + "'");
      }
      stack.push_back(toIValue(env, v, f.type(), f.name()));
    }
    op.callBoxed(&stack);
    bool discard = info.Length() > 2 && info[2].ToBoolean().Value();
    if (discard || stack.empty()) return env.Undefined();
    if (stack.size() == 1) return fromIValue(env, stack[0]);
    auto a = Napi::Array::New(env, stack.size());
    for (size_t i = 0; i < stack.size(); i++) a.Set(i, fromIValue(env, stack[i]));
    return a;
  });
}

size_t byteSize(at::ScalarType t) { return c10::elementSize(t); }

// fromBuffer(typedArray, shape, dtype) — one copy into a libtorch-owned tensor.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto ta = info[0].As<Napi::TypedArray>();
  auto shape = intsOf(info[1]);
  auto dtype = dtypeFromName(env, info[2].As<Napi::String>().Utf8Value());
  int64_t numel = 1;
  for (auto s : shape) numel *= s;
  size_t bytes = static_cast<size_t>(numel) * byteSize(dtype);
  if (ta.ByteLength() != bytes)
    throw Napi::Error::New(env, "fromBuffer: buffer has " + std::to_string(ta.ByteLength()) + " bytes, shape needs " + std::to_string(bytes));
  auto t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  auto src = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  if (bytes) std::memcpy(t.data_ptr(), src, bytes);
  return wrap(env, t);
}

// toBuffer(t) -> ArrayBuffer with the contiguous CPU bytes.
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  return guarded(info, "toBuffer", [&]() -> Napi::Value {
    auto t = tensorOf(info[0]).detach().to(at::kCPU).contiguous();
    size_t bytes = t.numel() * t.element_size();
    auto buf = Napi::ArrayBuffer::New(info.Env(), bytes);
    if (bytes) std::memcpy(buf.Data(), t.data_ptr(), bytes);
    return buf;
  });
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto& t = tensorOf(info[0]);
  auto o = Napi::Object::New(env);
  auto sizes = t.sizes();
  auto shape = Napi::Array::New(env, sizes.size());
  for (size_t i = 0; i < sizes.size(); i++) shape.Set(i, Napi::Number::New(env, static_cast<double>(sizes[i])));
  o.Set("shape", shape);
  o.Set("dtype", dtypeName(t.scalar_type()));
  o.Set("device", t.device().str());
  o.Set("requiresGrad", t.requires_grad());
  return o;
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto sizes = tensorOf(info[0]).sizes();
  auto shape = Napi::Array::New(env, sizes.size());
  for (size_t i = 0; i < sizes.size(); i++) shape.Set(i, Napi::Number::New(env, static_cast<double>(sizes[i])));
  return shape;
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  if (info[0].IsExternal()) info[0].As<Napi::External<Holder>>().Data()->reset();
  return info.Env().Undefined();
}

Napi::Value IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !info[0].As<Napi::External<Holder>>().Data()->defined());
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  return guarded(info, "item", [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), tensorOf(info[0]).item<double>());
  });
}

// Shape ops with SymInt arguments are called directly (cheaper, no schema games).
Napi::Value Reshape(const Napi::CallbackInfo& info) {
  return guarded(info, "reshape", [&]() { return wrap(info.Env(), tensorOf(info[0]).reshape(intsOf(info[1]))); });
}
Napi::Value Expand(const Napi::CallbackInfo& info) {
  return guarded(info, "expand", [&]() { return wrap(info.Env(), tensorOf(info[0]).expand(intsOf(info[1]))); });
}
Napi::Value Zeros(const Napi::CallbackInfo& info) {
  return guarded(info, "zeros", [&]() {
    auto dt = dtypeFromName(info.Env(), info[1].As<Napi::String>().Utf8Value());
    return wrap(info.Env(), torch::zeros(intsOf(info[0]), torch::TensorOptions().dtype(dt)));
  });
}
Napi::Value Full(const Napi::CallbackInfo& info) {
  return guarded(info, "full", [&]() {
    auto dt = dtypeFromName(info.Env(), info[2].As<Napi::String>().Utf8Value());
    return wrap(info.Env(), torch::full(intsOf(info[0]), info[1].As<Napi::Number>().DoubleValue(), torch::TensorOptions().dtype(dt)));
  });
}
Napi::Value Randn(const Napi::CallbackInfo& info) {
  return guarded(info, "randn", [&]() {
    auto dt = dtypeFromName(info.Env(), info[1].As<Napi::String>().Utf8Value());
    return wrap(info.Env(), torch::randn(intsOf(info[0]), torch::TensorOptions().dtype(dt)));
  });
}
Napi::Value Rand(const Napi::CallbackInfo& info) {
  return guarded(info, "rand", [&]() {
    auto dt = dtypeFromName(info.Env(), info[1].As<Napi::String>().Utf8Value());
    return wrap(info.Env(), torch::rand(intsOf(info[0]), torch::TensorOptions().dtype(dt)));
  });
}
Napi::Value Randperm(const Napi::CallbackInfo& info) {
  return guarded(info, "randperm", [&]() {
    return wrap(info.Env(), torch::randperm(info[0].As<Napi::Number>().Int64Value(), torch::TensorOptions().dtype(at::kLong)));
  });
}
Napi::Value Arange(const Napi::CallbackInfo& info) {
  return guarded(info, "arange", [&]() {
    auto dt = dtypeFromName(info.Env(), info[3].As<Napi::String>().Utf8Value());
    return wrap(info.Env(), torch::arange(info[0].As<Napi::Number>().DoubleValue(), info[1].As<Napi::Number>().DoubleValue(),
                                          info[2].As<Napi::Number>().DoubleValue(), torch::TensorOptions().dtype(dt)));
  });
}
Napi::Value ToDevice(const Napi::CallbackInfo& info) {
  return guarded(info, "to", [&]() {
    return wrap(info.Env(), tensorOf(info[0]).to(torch::Device(info[1].As<Napi::String>().Utf8Value())));
  });
}
Napi::Value ToMemoryFormat(const Napi::CallbackInfo& info) {
  return guarded(info, "contiguous", [&]() {
    auto f = info[1].As<Napi::String>().Utf8Value() == "channels_last" ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    return wrap(info.Env(), tensorOf(info[0]).contiguous(f));
  });
}
Napi::Value IsChannelsLast(const Napi::CallbackInfo& info) {
  auto& t = tensorOf(info[0]);
  return Napi::Boolean::New(info.Env(), t.dim() == 4 && t.is_contiguous(at::MemoryFormat::ChannelsLast) && !t.is_contiguous());
}

// --- autograd ---
Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "requiresGrad", [&]() {
    tensorOf(info[0]).set_requires_grad(info[1].ToBoolean().Value());
    return info.Env().Undefined();
  });
}
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guarded(info, "backward", [&]() {
    auto& t = tensorOf(info[0]);
    if (info.Length() > 1 && info[1].IsExternal()) t.backward(tensorOf(info[1]));
    else t.backward();
    return info.Env().Undefined();
  });
}
Napi::Value Grad(const Napi::CallbackInfo& info) {
  auto g = tensorOf(info[0]).grad();
  if (!g.defined()) return info.Env().Null();
  return wrap(info.Env(), g);
}
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  auto& t = tensorOf(info[0]);
  if (info[1].IsNull() || info[1].IsUndefined()) t.mutable_grad().reset();
  else t.mutable_grad() = tensorOf(info[1]);
  return info.Env().Undefined();
}
Napi::Value ZeroGrad(const Napi::CallbackInfo& info) {
  for (auto& t : tensorsOf(info[0])) t.mutable_grad().reset();
  return info.Env().Undefined();
}
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(info[0].ToBoolean().Value());
  return Napi::Boolean::New(info.Env(), prev);
}
Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}
// In-place replacement of a parameter's storage (used to load weights and change memory format
// without breaking the identity that optimizers hold).
Napi::Value SetData(const Napi::CallbackInfo& info) {
  return guarded(info, "setData", [&]() {
    tensorOf(info[0]).set_data(tensorOf(info[1]));
    return info.Env().Undefined();
  });
}

// --- autocast (bf16 on CPU) ---
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  bool on = info[0].ToBoolean().Value();
  bool prev = at::autocast::is_cpu_enabled();
  if (on) {
    auto dt = info.Length() > 1 && info[1].IsString() ? dtypeFromName(info.Env(), info[1].As<Napi::String>().Utf8Value()) : at::kBFloat16;
    at::autocast::set_autocast_cpu_dtype(dt);
  }
  at::autocast::set_cpu_enabled(on);
  if (!on) at::autocast::clear_cache();
  return Napi::Boolean::New(info.Env(), prev);
}

// --- runtime ---
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  torch::manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}
// RNG state as a uint8 tensor so resumed runs continue the same random stream.
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrap(info.Env(), gen.get_state());
}
Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  return guarded(info, "setRngState", [&]() {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(tensorOf(info[0]));
    return info.Env().Undefined();
  });
}
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n > 0) at::set_num_threads(n);
  return Napi::Number::New(info.Env(), at::get_num_threads());
}
Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}
Napi::Value Version(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("torch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH));
  o.Set("cuda", torch::cuda::is_available());
  o.Set("mkldnn", at::hasMKLDNN());
  o.Set("config", at::show_config());
  return o;
}

}  // namespace

void initOps(Napi::Env env, Napi::Object e) {
  e.Set("opId", Napi::Function::New(env, OpId));
  e.Set("call", Napi::Function::New(env, Call));
  e.Set("fromBuffer", Napi::Function::New(env, FromBuffer));
  e.Set("toBuffer", Napi::Function::New(env, ToBuffer));
  e.Set("info", Napi::Function::New(env, Info));
  e.Set("shape", Napi::Function::New(env, Shape));
  e.Set("dispose", Napi::Function::New(env, Dispose));
  e.Set("isDisposed", Napi::Function::New(env, IsDisposed));
  e.Set("item", Napi::Function::New(env, Item));
  e.Set("reshape", Napi::Function::New(env, Reshape));
  e.Set("expand", Napi::Function::New(env, Expand));
  e.Set("zeros", Napi::Function::New(env, Zeros));
  e.Set("full", Napi::Function::New(env, Full));
  e.Set("randn", Napi::Function::New(env, Randn));
  e.Set("rand", Napi::Function::New(env, Rand));
  e.Set("randperm", Napi::Function::New(env, Randperm));
  e.Set("arange", Napi::Function::New(env, Arange));
  e.Set("toDevice", Napi::Function::New(env, ToDevice));
  e.Set("toMemoryFormat", Napi::Function::New(env, ToMemoryFormat));
  e.Set("isChannelsLast", Napi::Function::New(env, IsChannelsLast));
  e.Set("setRequiresGrad", Napi::Function::New(env, SetRequiresGrad));
  e.Set("backward", Napi::Function::New(env, Backward));
  e.Set("grad", Napi::Function::New(env, Grad));
  e.Set("setGrad", Napi::Function::New(env, SetGrad));
  e.Set("zeroGrad", Napi::Function::New(env, ZeroGrad));
  e.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled));
  e.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled));
  e.Set("setData", Napi::Function::New(env, SetData));
  e.Set("setAutocast", Napi::Function::New(env, SetAutocast));
  e.Set("manualSeed", Napi::Function::New(env, ManualSeed));
  e.Set("getRngState", Napi::Function::New(env, GetRngState));
  e.Set("setRngState", Napi::Function::New(env, SetRngState));
  e.Set("setThreads", Napi::Function::New(env, SetThreads));
  e.Set("getThreads", Napi::Function::New(env, GetThreads));
  e.Set("version", Napi::Function::New(env, Version));
}

}  // namespace bie
