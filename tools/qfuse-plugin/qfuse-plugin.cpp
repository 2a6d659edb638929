//===- qfuse-plugin.cpp - qfuse as an mlir-opt dialect/pass plugin --------===//

#include "qfuse/InitAllDialects.h"
#include "qfuse/InitAllPasses.h"

#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

using namespace mlir;

/// Entry point for `mlir-opt --load-dialect-plugin`: the qfuse dialect, and
/// the passes so that a single flag is enough.
extern "C" LLVM_ATTRIBUTE_WEAK DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "QFuse", LLVM_VERSION_STRING,
          [](DialectRegistry *registry) {
            qfuse::registerAllDialects(*registry);
            qfuse::registerAllPasses();
          }};
}

/// Entry point for `mlir-opt --load-pass-plugin`.
extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "QFusePasses", LLVM_VERSION_STRING,
          []() { qfuse::registerAllPasses(); }};
}
