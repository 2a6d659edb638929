//===- QFuseDialect.cpp - qfuse dialect -----------------------------------===//

#include "qfuse/Dialect/QFuse/IR/QFuseDialect.h"
#include "qfuse/Dialect/QFuse/IR/QFuseOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qfuse;

#include "qfuse/Dialect/QFuse/IR/QFuseDialect.cpp.inc"
#include "qfuse/Dialect/QFuse/IR/QFuseEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qfuse/Dialect/QFuse/IR/QFuseAttributes.cpp.inc"

void QFuseDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "qfuse/Dialect/QFuse/IR/QFuseOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qfuse/Dialect/QFuse/IR/QFuseAttributes.cpp.inc"
      >();
}
