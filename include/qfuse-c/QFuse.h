/*===- qfuse-c/QFuse.h - C API of qfuse ---------------------------*- C -*-===*\
|*                                                                            *|
|* qfuse's dialect and passes for C clients of MLIR's C API:                  *|
|*                                                                            *|
|*   MlirContext ctx = mlirContextCreate();                                   *|
|*   qfuseContextLoadDialects(ctx);                                           *|
|*   qfuseRegisterAllPasses();                                                *|
|*   ... mlirParsePassPipeline(..., "builtin.module(qfuse-ptq)", ...) ...     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QFUSE_C_QFUSE_H
#define QFUSE_C_QFUSE_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The qfuse dialect handle: mlirGetDialectHandle__qfuse__().
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(QFuse, qfuse);

/// Registers and loads into `ctx` the qfuse dialect and the upstream dialects
/// qfuse models are written in (func, arith, tensor, linalg, math).
MLIR_CAPI_EXPORTED void qfuseContextLoadDialects(MlirContext ctx);

/// Registers qfuse's passes and named pipelines (fold-bn, fuse-activations,
/// fuse-qat, qat-to-deploy, convert-qfuse-to-linalg, qfuse-ptq, qfuse-qat,
/// qfuse-lower-to-llvm, qfuse-lower-to-nvvm, ...) so that
/// mlirParsePassPipeline can name them.
MLIR_CAPI_EXPORTED void qfuseRegisterAllPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* QFUSE_C_QFUSE_H */
