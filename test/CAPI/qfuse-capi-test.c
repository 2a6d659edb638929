/*===- qfuse-capi-test.c - qfuse from C -----------------------------------===*\
|* Parses a conv -> batch_norm -> relu model, runs --qfuse-ptq through MLIR's *|
|* C pass-manager API, and prints the result. Checked by capi.test.          *|
\*===----------------------------------------------------------------------===*/

#include "qfuse-c/QFuse.h"

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

#include <stdio.h>

static void print(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stdout);
}

static const char *kModel =
    "func.func @f(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {\n"
    "  %w = arith.constant dense<1.0> : tensor<2x2x1x1xf32>\n"
    "  %m = arith.constant dense<0.5> : tensor<2xf32>\n"
    "  %v = arith.constant dense<4.0> : tensor<2xf32>\n"
    "  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = "
    "array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : "
    "(tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>\n"
    "  %1 = qfuse.batch_norm %0, %m, %v {epsilon = 0.0 : f64} : "
    "tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>\n"
    "  %2 = qfuse.relu %1 : tensor<1x2x4x4xf32>\n"
    "  return %2 : tensor<1x2x4x4xf32>\n"
    "}\n";

int main(void) {
  MlirContext ctx = mlirContextCreate();
  qfuseContextLoadDialects(ctx);
  qfuseRegisterAllPasses();
  MlirDialectHandle handle = mlirGetDialectHandle__qfuse__();
  MlirStringRef ns = mlirDialectHandleGetNamespace(handle);
  printf("dialect: %.*s\n", (int)ns.length, ns.data);

  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kModel));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "parse failed\n");
    return 1;
  }
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      opm, mlirStringRefCreateFromCString("builtin.module(qfuse-ptq)"), print,
      NULL);
  if (mlirLogicalResultIsFailure(parsed)) {
    fprintf(stderr, "pipeline parse failed\n");
    return 1;
  }
  if (mlirLogicalResultIsFailure(
          mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)))) {
    fprintf(stderr, "pipeline failed\n");
    return 1;
  }
  mlirOperationPrint(mlirModuleGetOperation(module), print, NULL);
  printf("\n");
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  return 0;
}
