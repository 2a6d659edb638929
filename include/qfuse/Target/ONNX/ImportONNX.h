//===- ImportONNX.h - ONNX model importer -----------------------*- C++ -*-===//

#ifndef QFUSE_TARGET_ONNX_IMPORTONNX_H
#define QFUSE_TARGET_ONNX_IMPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace mlir {
class DialectRegistry;
namespace qfuse {

/// Imports the ONNX model in `bytes` (a serialized ModelProto) as a module
/// with one public function, @main_graph unless the graph is named, taking
/// the graph inputs and returning the graph outputs. `sourceName` is used in
/// locations (file name), which also carry each node's name. Every error
/// names the node and op type; nothing is imported partially.
OwningOpRef<ModuleOp> importONNX(llvm::StringRef bytes,
                                 llvm::StringRef sourceName,
                                 MLIRContext *context);

/// The dialects the importer creates ops of.
void registerONNXImportDialects(DialectRegistry &registry);

/// Registers the `--import-onnx` translation (mlir-translate style).
void registerImportONNXTranslation();

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_TARGET_ONNX_IMPORTONNX_H
