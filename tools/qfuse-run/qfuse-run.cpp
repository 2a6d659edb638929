//===- qfuse-run.cpp - JIT-run a qfuse model on .npy inputs ---------------===//
//
//   qfuse-run model.mlir --input a.npy [--input b.npy ...] --output out.npy
//   qfuse-run model.mlir --random-inputs 7 --repeat 50
//   qfuse-run model.mlir --random-inputs 7 --compare-after=qfuse-ptq
//   qfuse-run model.mlir --device=cuda --random-inputs 7 --repeat 50
//   qfuse-run --list-devices
//
// Exit codes: 0 success; 1 --tolerance exceeded; 2 bad command line, model or
// input file; 3 lowering, compilation or execution failed.
//
//===----------------------------------------------------------------------===//

#include "qfuse/InitAllDialects.h"
#include "qfuse/InitAllPasses.h"
#include "qfuse/Runtime/CudaRuntime.h"
#include "qfuse/Runtime/JitRunner.h"
#include "qfuse/Target/ONNX/ImportONNX.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>

using namespace mlir;
using namespace mlir::qfuse;
namespace cl = llvm::cl;

static cl::OptionCategory category("qfuse-run options");
static cl::opt<std::string> modelPath(cl::Positional,
                                      cl::desc("<model.mlir | model.onnx>"),
                                      cl::init("-"), cl::cat(category));
static cl::list<std::string>
    inputPaths("input",
               cl::desc("A .npy file per function argument, in order "
                        "('-' reads standard input)"),
               cl::value_desc("file.npy"), cl::cat(category));
static cl::list<std::string>
    outputPaths("output", cl::desc("A .npy file per function result, in order"),
                cl::value_desc("file.npy"), cl::cat(category));
static cl::opt<std::string>
    entryName("entry",
              cl::desc("Function to run (default: the only public function)"),
              cl::value_desc("name"), cl::cat(category));
static cl::opt<int64_t> randomSeed(
    "random-inputs",
    cl::desc("Generate every input from this seed instead of reading .npy "
             "files: floats uniform in [-1, 1), i8 in [-128, 127], i32/i64 in "
             "[-1000, 1000]"),
    cl::value_desc("seed"), cl::init(-1), cl::cat(category));
static cl::opt<unsigned>
    repeat("repeat",
           cl::desc("Run N more times after one warm-up run and print the "
                    "median and minimum time"),
           cl::value_desc("N"), cl::init(0), cl::cat(category));
static cl::opt<std::string> compareAfter(
    "compare-after",
    cl::desc("Also run the function after this pass pipeline (e.g. "
             "'qfuse-ptq', 'fold-bn', 'builtin.module(fold-bn)') on the same "
             "inputs and report the max absolute and relative error per "
             "result"),
    cl::value_desc("pipeline"), cl::cat(category));
static cl::opt<double> tolerance(
    "tolerance",
    cl::desc("With --compare-after: exit 1 when some result's relative error "
             "(max |after - before| / max |before|) exceeds this"),
    cl::init(-1.0), cl::cat(category));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level"),
                                  cl::init(3), cl::cat(category));
static cl::opt<unsigned> numThreads(
    "num-threads",
    cl::desc("Run the outer parallel loops of each op on N OpenMP threads "
             "(0: sequential, the default)"),
    cl::init(0), cl::cat(category));

static cl::opt<std::string> lowering(
    "lowering",
    cl::desc("Further options of the lowering pipeline: --qfuse-lower-to-llvm "
             "on the CPU, e.g. 'vectorize=false' (generic loops only) or "
             "'tile-pixels=4 loop-order=weights'; --qfuse-lower-to-nvvm with "
             "--device=cuda, e.g. 'tiled-conv=false' or 'tile-channels=32'"),
    cl::value_desc("options"), cl::init(""), cl::cat(category));
static cl::opt<Device> device(
    "device", cl::desc("Where the model runs"),
    cl::values(clEnumValN(Device::CPU, "cpu",
                          "this CPU (--qfuse-lower-to-llvm), the default"),
               clEnumValN(Device::CUDA, "cuda",
                          "CUDA device 0 (--qfuse-lower-to-nvvm, PTX for the "
                          "device's chip compiled by its driver); .npy files "
                          "stay on the host, copied in and out by the model")),
    cl::init(Device::CPU), cl::cat(category));
static cl::opt<bool> listDevices(
    "list-devices",
    cl::desc("Print the CUDA devices the driver reports and exit (exit 3 "
             "when there is no driver or no device)"),
    cl::init(false), cl::cat(category));

static cl::opt<bool> kernelProfile(
    "kernel-profile",
    cl::desc("With --device=cuda and --repeat: after the timing, print each "
             "kernel's time per run (CUDA events), by kernel and launch "
             "shape, slowest first"),
    cl::init(false), cl::cat(category));

static int fail(int code, const llvm::Twine &msg) {
  llvm::errs() << "qfuse-run: error: " << msg << "\n";
  return code;
}

/// Deterministic uniform inputs (splitmix64), independent of the C++ library.
static HostTensor randomTensor(const TensorSpec &spec, uint64_t &state) {
  HostTensor t(spec.dtype, spec.shape);
  auto next = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (int64_t i = 0, e = t.numElements(); i < e; ++i) {
    uint64_t r = next();
    switch (spec.dtype) {
    case DType::I8:
      t.setDouble(i, static_cast<int64_t>(r % 256) - 128);
      break;
    case DType::U8:
      t.setDouble(i, static_cast<int64_t>(r % 256));
      break;
    case DType::I32:
    case DType::I64:
      t.setDouble(i, static_cast<int64_t>(r % 2001) - 1000);
      break;
    default:
      t.setDouble(i, static_cast<double>(r >> 11) * 0x1.0p-52 - 1.0);
    }
  }
  return t;
}

static std::string describe(const HostTensor &t) {
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  int64_t n = t.numElements(), nonFinite = 0;
  for (int64_t i = 0; i < n; ++i) {
    double v = t.getDouble(i);
    if (!std::isfinite(v)) {
      ++nonFinite;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "tensor<";
  for (int64_t d : t.shape())
    os << d << "x";
  os << dtypeName(t.dtype()) << ">  min " << lo << "  max " << hi << "  mean "
     << (n ? sum / n : 0.0);
  if (nonFinite)
    os << "  non-finite " << nonFinite;
  return s;
}

/// Wall time of each run; on a GPU also the kernels' time (CUDA events),
/// and with --kernel-profile, in cuda::kernelProfile(), their times per
/// kernel over the runs.
static llvm::Error timeRuns(JitFunction &fn, llvm::ArrayRef<HostTensor> inputs,
                            unsigned n, std::vector<double> &ms,
                            std::vector<double> &kernelMs) {
  llvm::SmallVector<HostTensor> scratch;
  if (kernelProfile)
    cuda::startKernelProfile();
  for (unsigned i = 0; i < n; ++i) {
    cuda::resetKernelTime();
    auto start = std::chrono::steady_clock::now();
    if (llvm::Error err = fn.run(inputs, scratch))
      return err;
    auto stop = std::chrono::steady_clock::now();
    ms.push_back(
        std::chrono::duration<double, std::milli>(stop - start).count());
    kernelMs.push_back(cuda::kernelTimeMs());
  }
  return llvm::Error::success();
}

static int printDevices() {
  auto devices = cuda::listDevices();
  if (!devices)
    return fail(3, llvm::toString(devices.takeError()));
  if (devices->empty())
    return fail(3, "the CUDA driver reports no device");
  for (const cuda::DeviceInfo &d : *devices)
    llvm::outs() << llvm::formatv(
        "cuda:{0}: {1}, {2}, {3} SMs, {4:F1} GiB\n", d.ordinal, d.name,
        d.chip(), d.multiprocessors, d.memoryBytes / double(1ull << 30));
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAllPasses();
  qfuse::registerAllPasses();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "qfuse-run: lower a function through --qfuse-lower-to-llvm, JIT-compile "
      "it on this CPU (or through --qfuse-lower-to-nvvm for a CUDA GPU with "
      "--device=cuda), run it on .npy inputs, write .npy results, time it, "
      "and compare it with itself after a pass pipeline.\n");
  if (listDevices)
    return printDevices();
  // Repeated runs reuse the freed activations (no page faults per run).
  qfuse::retainFreedHostMemory();

  DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  qfuse::registerAllDialects(registry);
  MLIRContext context(registry);
  context.disableMultithreading();

  // The .npy inputs, read once: their shapes also size the symbolic
  // dimensions of an ONNX model.
  std::vector<HostTensor> fileInputs;
  if (randomSeed >= 0 && !inputPaths.empty())
    return fail(2, "give either --input files or --random-inputs, not both");
  for (const std::string &path : inputPaths) {
    auto t = HostTensor::readNpy(path);
    if (!t)
      return fail(2, llvm::toString(t.takeError()));
    fileInputs.push_back(std::move(*t));
  }

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module;
  if (llvm::StringRef(modelPath).ends_with(".onnx")) {
    auto bytes = llvm::MemoryBuffer::getFile(modelPath, /*IsText=*/false);
    if (!bytes)
      return fail(2, "cannot read " + modelPath + ": " +
                         bytes.getError().message());
    // Symbolic input dimensions (a dynamic batch) take their sizes from the
    // --input files, by position.
    std::map<std::string, int64_t> dims;
    if (auto onnxInputs = readONNXInputs((*bytes)->getBuffer()))
      for (auto [info, t] : llvm::zip(*onnxInputs, fileInputs)) {
        if (t.shape().size() != info.dims.size())
          continue; // reported against the signature below
        for (auto [d, dim] : llvm::enumerate(info.dims))
          if (auto *name = std::get_if<std::string>(&dim))
            dims[*name] = t.shape()[d];
      }
    module = importONNX((*bytes)->getBuffer(), modelPath, &context, dims);
    if (!module)
      return fail(2, "cannot import " + modelPath);
  } else {
    module =
        parseSourceFile<ModuleOp>(modelPath, sourceMgr, ParserConfig(&context));
    if (!module)
      return fail(2, "cannot parse " + modelPath);
  }

  auto compiled = JitFunction::compile(*module, entryName, optLevel, numThreads,
                                       lowering, device);
  if (!compiled)
    return fail(3, llvm::toString(compiled.takeError()));
  JitFunction &fn = **compiled;

  // Inputs.
  llvm::SmallVector<HostTensor> inputs;
  if (randomSeed >= 0) {
    uint64_t state = static_cast<uint64_t>(randomSeed);
    for (const TensorSpec &spec : fn.inputs())
      inputs.push_back(randomTensor(spec, state));
  } else {
    if (fileInputs.size() != fn.inputs().size())
      return fail(2, "the function takes " + llvm::Twine(fn.inputs().size()) +
                         " inputs, " + llvm::Twine(fileInputs.size()) +
                         " --input files given (or use --random-inputs SEED)");
    for (auto [i, t] : llvm::enumerate(fileInputs)) {
      // numpy has no bfloat16: a bf16 argument takes an f32 file, rounded.
      if (fn.inputs()[i].dtype == DType::BF16 && t.dtype() == DType::F32)
        t = t.convertTo(DType::BF16);
      inputs.push_back(std::move(t));
    }
  }
  if (!outputPaths.empty() && outputPaths.size() != fn.outputs().size())
    return fail(2, "the function returns " + llvm::Twine(fn.outputs().size()) +
                       " results, " + llvm::Twine(outputPaths.size()) +
                       " --output files given");

  llvm::SmallVector<HostTensor> results;
  if (llvm::Error err = fn.run(inputs, results)) {
    std::string msg = llvm::toString(std::move(err));
    return fail(llvm::StringRef(msg).contains(" expects ") ? 2 : 3, msg);
  }
  for (auto [i, r] : llvm::enumerate(results)) {
    if (i < outputPaths.size()) {
      if (llvm::Error err = r.writeNpy(outputPaths[i]))
        return fail(2, llvm::toString(std::move(err)));
    } else {
      llvm::outs() << "result " << i << ": " << describe(r) << "\n";
    }
  }

  if (repeat > 0) {
    std::vector<double> ms, kernelMs;
    if (llvm::Error err = timeRuns(fn, inputs, repeat, ms, kernelMs))
      return fail(3, llvm::toString(std::move(err)));
    std::sort(ms.begin(), ms.end());
    std::sort(kernelMs.begin(), kernelMs.end());
    llvm::outs() << llvm::formatv("time: median {0:F3} ms, min {1:F3} ms "
                                  "over {2} runs\n",
                                  ms[ms.size() / 2], ms.front(), ms.size());
    if (device == Device::CUDA)
      llvm::outs() << llvm::formatv(
          "gpu kernels: median {0:F3} ms, min {1:F3} ms (CUDA events; the "
          "time above adds the copies in and out and the weight uploads)\n",
          kernelMs[kernelMs.size() / 2], kernelMs.front());
    if (device == Device::CUDA && kernelProfile) {
      std::vector<cuda::KernelStat> profile = cuda::kernelProfile();
      llvm::stable_sort(
          profile, [](const auto &a, const auto &b) { return a.ms > b.ms; });
      double total = 0;
      for (const cuda::KernelStat &k : profile)
        total += k.ms;
      llvm::outs() << "kernel profile (per run, mean over " << repeat
                   << " runs):\n";
      for (const cuda::KernelStat &k : profile)
        llvm::outs() << llvm::formatv(
            "  {0,9:F4} ms {1,5:F1}%  {2,3} x {3}  ({4})\n", k.ms / repeat,
            100.0 * k.ms / std::max(total, 1e-30), k.launches / repeat, k.name,
            k.shape);
    }
  }

  if (compareAfter.empty())
    return 0;
  OwningOpRef<ModuleOp> transformed = module->clone();
  PassManager pm(&context);
  // The pass manager is anchored on builtin.module already: accept the
  // pipeline with or without that anchor.
  llvm::StringRef pipeline = llvm::StringRef(compareAfter).trim();
  if (pipeline.consume_front("builtin.module(") && pipeline.ends_with(")"))
    pipeline = pipeline.drop_back();
  std::string pipelineErr;
  llvm::raw_string_ostream pipelineOS(pipelineErr);
  if (failed(parsePassPipeline(pipeline, pm, pipelineOS)))
    return fail(2, "bad --compare-after pipeline '" + compareAfter +
                       "': " + pipelineErr);
  if (failed(pm.run(*transformed)))
    return fail(3, "the --compare-after pipeline failed");
  auto after = JitFunction::compile(*transformed, entryName, optLevel,
                                    numThreads, lowering, device);
  if (!after)
    return fail(3, "after " + compareAfter + ": " +
                       llvm::toString(after.takeError()));
  llvm::SmallVector<HostTensor> afterResults;
  if (llvm::Error err = (*after)->run(inputs, afterResults))
    return fail(3, "after " + compareAfter + ": " +
                       llvm::toString(std::move(err)));
  bool exceeded = false;
  llvm::outs() << "compare: before vs after '" << compareAfter << "'\n";
  for (auto [i, pair] : llvm::enumerate(llvm::zip(results, afterResults))) {
    auto &[a, b] = pair;
    double maxAbs = 0, maxRef = 0;
    int64_t nonFinite = 0;
    for (int64_t k = 0, e = a.numElements(); k < e; ++k) {
      double x = a.getDouble(k), y = b.getDouble(k);
      if (std::isfinite(x) != std::isfinite(y)) {
        ++nonFinite;
        continue;
      }
      if (!std::isfinite(x))
        continue;
      maxAbs = std::max(maxAbs, std::fabs(x - y));
      maxRef = std::max(maxRef, std::fabs(x));
    }
    double rel = maxRef > 0 ? maxAbs / maxRef : maxAbs;
    llvm::outs() << llvm::formatv(
        "result {0}: max abs err {1:e}, max rel err {2:e} "
        "(relative to max |before| = {3:e})",
        i, maxAbs, rel, maxRef);
    if (nonFinite)
      llvm::outs() << ", " << nonFinite << " elements finite on one side only";
    llvm::outs() << "\n";
    if (tolerance >= 0 && (rel > tolerance || nonFinite))
      exceeded = true;
  }
  if (exceeded) {
    llvm::outs() << "compare: FAILED, tolerance " << tolerance << " exceeded\n";
    return 1;
  }
  if (tolerance >= 0)
    llvm::outs() << "compare: OK within tolerance " << tolerance << "\n";
  return 0;
}
