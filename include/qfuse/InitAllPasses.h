//===- InitAllPasses.h - register qfuse's passes ----------------*- C++ -*-===//

#ifndef QFUSE_INITALLPASSES_H
#define QFUSE_INITALLPASSES_H

namespace mlir {
namespace qfuse {
/// Registers every qfuse pass and named pipeline with the global registry, so
/// that they can be named on an mlir-opt style command line.
void registerAllPasses();
} // namespace qfuse
} // namespace mlir

#endif // QFUSE_INITALLPASSES_H
