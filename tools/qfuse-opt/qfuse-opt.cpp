//===- qfuse-opt.cpp - mlir-opt with the qfuse dialect and passes ---------===//
//
// Every upstream dialect, extension and pass, plus qfuse's dialect, passes and
// named pipelines (--qfuse-ptq, ...). See `qfuse-opt --help`.
//
//===----------------------------------------------------------------------===//

#include "qfuse/InitAllDialects.h"
#include "qfuse/InitAllPasses.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::qfuse::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // GPU modules are serialized (PTX) through the LLVM IR translation.
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::qfuse::registerAllDialects(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "qfuse optimizer driver: fold batch-norm, fuse activations, keep QAT "
      "forms, lower conv nets (all upstream MLIR dialects and passes too)\n",
      registry));
}
