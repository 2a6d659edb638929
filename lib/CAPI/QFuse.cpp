//===- QFuse.cpp - C API of qfuse -----------------------------------------===//

#include "qfuse-c/QFuse.h"
#include "qfuse/Dialect/QFuse/IR/QFuseDialect.h"
#include "qfuse/InitAllDialects.h"
#include "qfuse/InitAllPasses.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(QFuse, qfuse, mlir::qfuse::QFuseDialect)

void qfuseContextLoadDialects(MlirContext ctx) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect>();
  mlir::qfuse::registerAllDialects(registry);
  unwrap(ctx)->appendDialectRegistry(registry);
  unwrap(ctx)->loadAllAvailableDialects();
}

void qfuseRegisterAllPasses(void) { mlir::qfuse::registerAllPasses(); }
