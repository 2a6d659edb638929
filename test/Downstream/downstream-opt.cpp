//===- downstream-opt.cpp - a compiler embedding qfuse --------------------===//
//
// Registers only func, arith and qfuse plus qfuse's passes, parses the file
// named on the command line, verifies it, and prints it back; a stand-in for
// a downstream compiler that links the installed qfuse libraries.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"
#include "qfuse/InitAllDialects.h"
#include "qfuse/InitAllPasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    llvm::errs() << "usage: downstream-opt FILE.mlir\n";
    return 2;
  }
  mlir::DialectRegistry registry;
  registry.insert<mlir::func::FuncDialect, mlir::arith::ArithDialect>();
  mlir::qfuse::registerAllDialects(registry);
  mlir::qfuse::registerAllPasses();
  mlir::MLIRContext context(registry);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(argv[1], &context);
  if (!module)
    return 1;
  unsigned numQFuseOps = 0;
  module->walk([&](mlir::Operation *op) {
    if (llvm::isa_and_nonnull<mlir::qfuse::QFuseDialect>(op->getDialect()))
      ++numQFuseOps;
  });
  llvm::outs() << "downstream: " << numQFuseOps << " qfuse ops\n";
  module->print(llvm::outs());
  return 0;
}
