//===- QFuseDialect.h - qfuse dialect ---------------------------*- C++ -*-===//

#ifndef QFUSE_DIALECT_QFUSE_IR_QFUSEDIALECT_H
#define QFUSE_DIALECT_QFUSE_IR_QFUSEDIALECT_H

#include "mlir/IR/Dialect.h"

#include "qfuse/Dialect/QFuse/IR/QFuseDialect.h.inc"

#endif // QFUSE_DIALECT_QFUSE_IR_QFUSEDIALECT_H
