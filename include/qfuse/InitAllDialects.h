//===- InitAllDialects.h - register qfuse's dialects ------------*- C++ -*-===//

#ifndef QFUSE_INITALLDIALECTS_H
#define QFUSE_INITALLDIALECTS_H

#include "mlir/IR/DialectRegistry.h"

namespace mlir {
namespace qfuse {
/// Adds every dialect qfuse defines to `registry`.
void registerAllDialects(DialectRegistry &registry);
} // namespace qfuse
} // namespace mlir

#endif // QFUSE_INITALLDIALECTS_H
