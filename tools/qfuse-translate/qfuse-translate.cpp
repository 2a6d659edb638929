//===- qfuse-translate.cpp - model importers for qfuse --------------------===//
//
//   qfuse-translate --import-onnx model.onnx [-o model.mlir]
//
//===----------------------------------------------------------------------===//

#include "qfuse/Target/ONNX/ImportONNX.h"

#include "mlir/Support/LogicalResult.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  mlir::qfuse::registerImportONNXTranslation();
  return mlir::failed(mlir::mlirTranslateMain(
      argc, argv,
      "qfuse-translate: import models into qfuse (ONNX: --import-onnx)\n"))
             ? 1
             : 0;
}
