//===- JitRunner.cpp - lower, JIT-compile and call a function -------------===//
//
// The function is lowered with --qfuse-lower-to-llvm{results-to-out-params},
// so its C interface is
//
//   void _mlir_ciface_NAME(Desc *in0, ..., Desc *out0, ...)
//
// where Desc is MLIR's ranked memref descriptor
//   { T *allocated; T *aligned; int64_t offset; int64_t sizes[R];
//     int64_t strides[R]; }
// The caller owns every buffer.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Runtime/JitRunner.h"
#include "qfuse/Pipelines/Pipelines.h"
#include "qfuse/Runtime/CudaRuntime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

using namespace mlir;
using namespace mlir::qfuse;

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

std::string TensorSpec::str() const {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + dtypeName(dtype).str() + ">";
}

bool mlir::qfuse::retainFreedHostMemory() {
#if defined(__GLIBC__)
  // 32 MiB is glibc's largest mmap threshold on 64-bit hosts.
  return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 &&
         mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max()) == 1;
#else
  return false;
#endif
}

llvm::Expected<func::FuncOp> mlir::qfuse::findEntry(ModuleOp module,
                                                    llvm::StringRef name) {
  if (!name.empty()) {
    auto f = module.lookupSymbol<func::FuncOp>(name);
    if (!f || f.isExternal())
      return makeError("no function @" + name + " with a body in the module");
    return f;
  }
  func::FuncOp found;
  unsigned count = 0;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal() && f.isPublic()) {
      found = f;
      ++count;
    }
  if (count == 1)
    return found;
  return makeError(count == 0
                       ? "the module has no public function with a body"
                       : "the module has " + llvm::Twine(count) +
                             " public functions; pick one with --entry NAME");
}

/// The run-time library the JIT loads: `configured` (its path when qfuse was
/// configured) where it exists, else the file of that name in the lib/
/// folder beside the running program's bin/ folder, so that a copied or
/// installed tree of qfuse's tools with its libraries still runs.
static std::string findRuntimeLibrary(llvm::StringRef configured) {
  if (llvm::sys::fs::exists(configured))
    return configured.str();
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, &anchor);
  llvm::SmallString<256> beside(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(beside, "lib", llvm::sys::path::filename(configured));
  return llvm::sys::fs::exists(beside) ? std::string(beside) : configured.str();
}

static std::string typeString(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

static llvm::Expected<TensorSpec> specOf(Type type, bool isUint8,
                                         const llvm::Twine &what) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return makeError(what + " has type " + typeString(type) +
                     "; qfuse-run needs statically shaped tensors");
  auto dtype = dtypeOf(tensor.getElementType(), isUint8);
  if (!dtype)
    return makeError(what + " has unsupported element type " +
                     typeString(tensor.getElementType()));
  return TensorSpec{*dtype, llvm::SmallVector<int64_t>(tensor.getShape())};
}

JitFunction::~JitFunction() = default;

llvm::Expected<std::unique_ptr<JitFunction>>
JitFunction::compile(ModuleOp module, llvm::StringRef entry,
                     unsigned optLevel, unsigned numThreads,
                     llvm::StringRef loweringOptions, Device device) {
  static bool targetsReady = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)targetsReady;

  auto fn = findEntry(module, entry);
  if (!fn)
    return fn.takeError();
  std::unique_ptr<JitFunction> jit(new JitFunction());
  jit->symbol = fn->getSymName().str();
  jit->target = device;
  // The device first: no point lowering for a GPU that is not there.
  std::optional<cuda::DeviceInfo> gpu;
  if (device == Device::CUDA) {
    if (numThreads > 0)
      return makeError("--num-threads is a CPU option; the CUDA lowering "
                       "maps every loop to the GPU");
    if (llvm::Error err = cuda::initialize())
      return makeError("--device=cuda: " + llvm::toString(std::move(err)));
    auto info = cuda::currentDevice();
    if (!info)
      return info.takeError();
    gpu = *info;
  }
  FunctionType type = fn->getFunctionType();
  for (auto [i, t] : llvm::enumerate(type.getInputs())) {
    auto spec = specOf(t, static_cast<bool>(fn->getArgAttr(i, "qfuse.uint8")),
                       "argument " + llvm::Twine(i) + " of @" + jit->symbol);
    if (!spec)
      return spec.takeError();
    jit->inputSpecs.push_back(*spec);
  }
  for (auto [i, t] : llvm::enumerate(type.getResults())) {
    auto spec =
        specOf(t, static_cast<bool>(fn->getResultAttr(i, "qfuse.uint8")),
               "result " + llvm::Twine(i) + " of @" + jit->symbol);
    if (!spec)
      return spec.takeError();
    jit->outputSpecs.push_back(*spec);
  }

  OwningOpRef<ModuleOp> lowered = module.clone();
  // qfuse.uint8 only tells the host how to read and write i8 buffers; LLVM
  // translation would warn about it.
  lowered->walk([](func::FuncOp f) {
    for (unsigned i = 0, e = f.getNumArguments(); i < e; ++i)
      f.removeArgAttr(i, "qfuse.uint8");
    for (unsigned i = 0, e = f.getNumResults(); i < e; ++i)
      f.removeResultAttr(i, StringAttr::get(f.getContext(), "qfuse.uint8"));
  });
  MLIRContext *ctx = lowered->getContext();
  registerBuiltinDialectTranslation(*ctx);
  registerLLVMDialectTranslation(*ctx);
  registerOpenMPDialectTranslation(*ctx);
  registerGPUDialectTranslation(*ctx);
  registerNVVMDialectTranslation(*ctx);
  {
    // gpu.binary embeds its object and loads it in a global constructor.
    DialectRegistry offloading;
    gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(offloading);
    ctx->appendDialectRegistry(offloading);
  }
  std::string diagnostics;
  llvm::raw_string_ostream diagOS(diagnostics);
  {
    ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
      diagOS << d.getLocation() << ": " << d << "\n";
      return success();
    });
    PassManager pm(ctx);
    std::string optionErrors;
    llvm::raw_string_ostream optionOS(optionErrors);
    if (gpu) {
      LowerToNVVMOptions options;
      // The device's own target unless the options name one.
      options.chip = gpu->chip();
      options.features = gpu->ptxFeatures();
      if (failed(options.parseFromString(loweringOptions, optionOS)))
        return makeError("bad qfuse-lower-to-nvvm options '" +
                         loweringOptions + "': " + optionErrors);
      options.hostRuntime = true;
      buildLowerToNVVMPipeline(pm, options);
    } else {
      LowerToLLVMOptions options;
      if (failed(options.parseFromString(loweringOptions, optionOS)))
        return makeError("bad qfuse-lower-to-llvm options '" +
                         loweringOptions + "': " + optionErrors);
      options.resultsToOutParams = true;
      options.numThreads = numThreads;
      buildLowerToLLVMPipeline(pm, options);
    }
    if (failed(pm.run(*lowered)))
      return makeError("lowering @" + jit->symbol + " failed:\n" + diagnostics);
  }

  ExecutionEngineOptions engineOptions;
  // memref.copy of strided views calls memrefCopy from MLIR's runner utils.
  // OpenMP-parallel code calls libomp (LLVM's OpenMP runtime).
  std::string runnerUtils = findRuntimeLibrary(QFUSE_MLIR_C_RUNNER_UTILS);
  llvm::SmallVector<llvm::StringRef, 2> libs = {runnerUtils};
  std::string omp;
  if (numThreads > 0) {
    if (llvm::StringRef(QFUSE_LIBOMP).empty())
      return makeError("num-threads > 0 needs libomp (Debian: libomp-22-dev), "
                       "which was not found when qfuse was configured");
    omp = findRuntimeLibrary(QFUSE_LIBOMP);
    libs.push_back(omp);
  }
  engineOptions.sharedLibPaths = libs;
  engineOptions.transformer = makeOptimizingTransformer(optLevel, 0, nullptr);
  engineOptions.jitCodeGenOptLevel =
      optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
      : optLevel == 0 ? llvm::CodeGenOptLevel::None
                      : llvm::CodeGenOptLevel::Default;
  auto engine = ExecutionEngine::create(*lowered, engineOptions);
  if (!engine)
    return makeError("JIT compilation of @" + jit->symbol + " failed: " +
                     llvm::toString(engine.takeError()));
  jit->engine = std::move(*engine);
  if (gpu) {
    // The host code calls the mgpu* ABI; its global constructors load the
    // kernels (PTX, compiled by the driver) when the engine initializes.
    jit->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
      llvm::orc::SymbolMap map;
      cuda::forEachRuntimeSymbol([&](llvm::StringRef name, void *address) {
        map[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                               llvm::JITSymbolFlags::Exported};
      });
      return map;
    });
    jit->engine->initialize();
    if (llvm::Error err = cuda::takeError())
      return makeError("loading the kernels of @" + jit->symbol +
                       " on the GPU failed: " + llvm::toString(std::move(err)));
  }
  return jit;
}

namespace {
/// Storage for one ranked memref descriptor.
struct Descriptor {
  llvm::SmallVector<int64_t, 12> words;
  void *address;
  Descriptor(void *data, llvm::ArrayRef<int64_t> shape) {
    auto ptr = reinterpret_cast<int64_t>(data);
    words = {ptr, ptr, 0};
    llvm::append_range(words, shape);
    int64_t stride = 1;
    llvm::SmallVector<int64_t> strides(shape.size());
    for (int64_t i = shape.size() - 1; i >= 0; --i) {
      strides[i] = stride;
      stride *= shape[i];
    }
    llvm::append_range(words, strides);
    address = words.data();
  }
};
} // namespace

llvm::Error JitFunction::run(llvm::ArrayRef<HostTensor> args,
                             llvm::SmallVectorImpl<HostTensor> &results) {
  if (args.size() != inputSpecs.size())
    return makeError("@" + symbol + " takes " +
                     llvm::Twine(inputSpecs.size()) + " inputs, " +
                     llvm::Twine(args.size()) + " given");
  for (auto [i, pair] : llvm::enumerate(llvm::zip(args, inputSpecs))) {
    auto &[arg, spec] = pair;
    if (arg.dtype() != spec.dtype || arg.shape() != llvm::ArrayRef(spec.shape))
      return makeError("input " + llvm::Twine(i) + " of @" + symbol +
                       " is " + arg.shapeString() + " " +
                       dtypeName(arg.dtype()) + ", the function expects " +
                       spec.str());
  }
  // Reuse the caller's result buffers when they already fit (timing loops
  // call run() again and again); allocate otherwise.
  bool reusable = results.size() == outputSpecs.size();
  for (auto [res, spec] : llvm::zip(results, outputSpecs))
    reusable &= res.dtype() == spec.dtype &&
                res.shape() == llvm::ArrayRef(spec.shape);
  if (!reusable) {
    results.clear();
    for (const TensorSpec &spec : outputSpecs)
      results.emplace_back(spec.dtype, spec.shape);
  }

  llvm::SmallVector<Descriptor> descriptors;
  descriptors.reserve(args.size() + results.size());
  for (const HostTensor &arg : args)
    descriptors.emplace_back(const_cast<void *>(arg.data()), arg.shape());
  for (HostTensor &res : results)
    descriptors.emplace_back(res.data(), res.shape());
  llvm::SmallVector<void *> packed;
  for (Descriptor &d : descriptors)
    packed.push_back(&d.address);
  if (llvm::Error err =
          engine->invokePacked("_mlir_ciface_" + symbol, packed))
    return err;
  if (target == Device::CUDA)
    if (llvm::Error err = cuda::takeError())
      return makeError("@" + symbol + " failed on the GPU: " +
                       llvm::toString(std::move(err)));
  return llvm::Error::success();
}
