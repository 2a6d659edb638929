//===- ImportONNX.h - ONNX model importer -----------------------*- C++ -*-===//

#ifndef QFUSE_TARGET_ONNX_IMPORTONNX_H
#define QFUSE_TARGET_ONNX_IMPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <optional>
#include <string>
#include <variant>

namespace mlir {
class DialectRegistry;
namespace qfuse {

/// Imports the ONNX model in `bytes` (a serialized ModelProto) as a module
/// with one public function, @main_graph unless the graph is named, taking
/// the graph inputs and returning the graph outputs. `sourceName` is used in
/// locations (file name), which also carry each node's name. Every error
/// names the node and op type; nothing is imported partially.
///
/// Symbolic dimensions of the graph inputs (dim_param, e.g. a dynamic batch)
/// take their value from `dims` (name -> size); one without a value is an
/// error naming it.
OwningOpRef<ModuleOp>
importONNX(llvm::StringRef bytes, llvm::StringRef sourceName,
           MLIRContext *context,
           const std::map<std::string, int64_t> &dims = {});

/// The graph inputs of the model in `bytes` (initializers excluded), in
/// order, as (name, shape) with symbolic dimensions named: used to bind
/// dim_params from the shapes of actual inputs.
struct ONNXInputInfo {
  std::string name;
  llvm::SmallVector<std::variant<int64_t, std::string>> dims;
};
std::optional<llvm::SmallVector<ONNXInputInfo>>
readONNXInputs(llvm::StringRef bytes);

/// The dialects the importer creates ops of.
void registerONNXImportDialects(DialectRegistry &registry);

/// Registers the `--import-onnx` translation (mlir-translate style).
void registerImportONNXTranslation();

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_TARGET_ONNX_IMPORTONNX_H
