// convert-qfuse-to-vector, dense kernels on a batch: when the whole batch's
// prepared input (padded; channel pairs or quads for qconv) exceeds
// batch-prepare-bytes, each image is prepared and convolved in turn, in a
// loop marked qfuse.fork_per_iteration (its foralls each fork once per
// image); within the limit the batch is prepared in one pass.
// RUN: qfuse-opt %s --convert-qfuse-to-vector="batch-prepare-bytes=0" --remarks-filter=vectorize --remark-format=emitRemark 2>&1 | FileCheck %s --check-prefix=ONE
// RUN: qfuse-opt %s --convert-qfuse-to-vector --remarks-filter=vectorize --remark-format=emitRemark 2>&1 | FileCheck %s --check-prefix=BATCH

// ONE: remark: [Passed] ConvToVector | Category:vectorize:kernel | Remark="dense vector kernel: {{.*}}, one image at a time"
// ONE-LABEL: func.func @conv
// ONE:         %[[OUT:.*]] = tensor.empty() : tensor<2x16x6x6xf32>
// ONE:         scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[OUT]])
// ONE:           %[[IMAGE:.*]] = tensor.extract_slice %arg0[%[[N]], 0, 0, 0] [1, 4, 6, 6] [1, 1, 1, 1] : tensor<2x4x6x6xf32> to tensor<1x4x6x6xf32>
// ONE:           %[[SLOT:.*]] = tensor.extract_slice %[[ACC]][%[[N]], 0, 0, 0] [1, 16, 6, 6] [1, 1, 1, 1] : tensor<2x16x6x6xf32> to tensor<1x16x6x6xf32>
// ONE:           scf.forall {{.*}} shared_outs({{.*}}) -> (tensor<1x4x8x8xf32>)
// ONE:           tensor.collapse_shape %[[SLOT]]
// ONE:           scf.forall
// ONE:           %[[R:.*]] = tensor.expand_shape
// ONE:           %[[NEXT:.*]] = tensor.insert_slice %[[R]] into %[[ACC]][%[[N]], 0, 0, 0] [1, 16, 6, 6]
// ONE:           scf.yield %[[NEXT]]
// ONE:         } {qfuse.fork_per_iteration}

// Each padded plane is written straight into its slice of the padded batch
// (no plane of its own copied in afterwards).
// BATCH-NOT: one image at a time
// BATCH-LABEL: func.func @conv
// BATCH-NOT:     scf.for %{{.*}} iter_args
// BATCH:         scf.forall (%[[N:.*]], %[[C:.*]]) in (2, 4) shared_outs(%[[PADDED:.*]] = %{{.*}}) -> (tensor<2x4x8x8xf32>)
// BATCH:           %[[SLOT:.*]] = tensor.extract_slice %[[PADDED]][%[[N]], %[[C]], 0, 0] [1, 1, 8, 8]
// BATCH-NOT:       tensor.empty
// BATCH:           scf.for {{.*}} iter_args(%{{.*}} = %[[SLOT]])
// BATCH:           tensor.parallel_insert_slice %{{.*}} into %[[PADDED]][%[[N]], %[[C]], 0, 0] [1, 1, 8, 8]
// BATCH-NOT:     qfuse.fork_per_iteration
func.func @conv(%x: tensor<2x4x6x6xf32>, %w: tensor<16x4x3x3xf32>, %b: tensor<16xf32>) -> tensor<2x16x6x6xf32> {
  %y = qfuse.conv %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x4x6x6xf32>, tensor<16x4x3x3xf32>, tensor<16xf32>) -> tensor<2x16x6x6xf32>
  return %y : tensor<2x16x6x6xf32>
}
