//===- InitAll.cpp - register qfuse's dialects and passes -----------------===//

#include "qfuse/InitAllDialects.h"
#include "qfuse/InitAllPasses.h"

#include "qfuse/Dialect/QFuse/IR/QFuseDialect.h"
#include "qfuse/Conversion/Passes.h"
#include "qfuse/Dialect/QFuse/Transforms/Passes.h"
#include "qfuse/Pipelines/Pipelines.h"

using namespace mlir;

void qfuse::registerAllDialects(DialectRegistry &registry) {
  registry.insert<qfuse::QFuseDialect>();
}

void qfuse::registerAllPasses() {
  qfuse::registerQFusePasses();
  qfuse::registerQFuseConversionPasses();
  qfuse::registerPipelines();
}
