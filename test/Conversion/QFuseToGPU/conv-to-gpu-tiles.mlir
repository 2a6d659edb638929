// convert-qfuse-to-gpu-tiles: an f32 conv (+bias+relu) becomes one block
// forall with thread phases (bias, stage, accumulate, activation and store)
// staging in workgroup memory; convs it cannot take stay, with a remark.
// RUN: qfuse-opt %s --split-input-file --convert-qfuse-to-gpu-tiles --canonicalize | FileCheck %s
// RUN: qfuse-opt %s --split-input-file --convert-qfuse-to-gpu-tiles="memory-space=default tile-channels=8 tile-pixels=16 tile-reduction=4 thread-channels=2 thread-pixels=2 target-blocks=0" | FileCheck %s --check-prefix=SMALL
// RUN: qfuse-opt %s --split-input-file --convert-qfuse-to-gpu-tiles --remarks-filter=gpu -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: not qfuse-opt %s --split-input-file --convert-qfuse-to-gpu-tiles=memory-space=global -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADSPACE

// CHECK-LABEL: func.func @conv_bias_relu
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<1x16x8x8xf32>
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 1, 1) {
// CHECK-DAG: %[[WS:.*]] = memref.alloc() : memref<16x16xf32, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[XS:.*]] = memref.alloc() : memref<16x128xf32, #gpu.address_space<workgroup>>
// On the GPU one thread phase holds the whole reduction, its 16
// accumulators in registers from the bias on: no accumulator buffer.
// CHECK-NOT: memref.alloc
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (4, 32) {
// CHECK: tensor.extract %arg2
// 72 taps in steps of 16: staging, zero outside the image and past tap 72,
// a barrier, the multiply-adds, a barrier.
// CHECK: scf.for %{{.*}} = %c0 to %c72 step %c16 iter_args({{(%[^,]*, ){15}%[^)]*}}) -> ({{(f32, ){15}f}}32) {
// CHECK: memref.store %{{.*}}, %[[WS]]
// CHECK: arith.cmpi sge
// CHECK: scf.if %{{.*}} -> (f32) {
// CHECK: tensor.extract %arg0
// CHECK: } else {
// CHECK: memref.store %{{.*}}, %[[XS]]
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} iter_args({{(%[^,]*, ){15}%[^)]*}}) -> ({{(f32, ){15}f}}32) {
// CHECK-COUNT-16: math.fma
// CHECK: gpu.barrier
// CHECK-NEXT: scf.yield
// The epilogue: relu and the store, in the same phase.
// CHECK: arith.maximumf
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: } {mapping = [#gpu.thread<y>, #gpu.thread<x>]}
// CHECK-NEXT: } {mapping = [#gpu.block<z>, #gpu.block<y>, #gpu.block<x>]}
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: qfuse.conv

// As loops for the CPU (memory-space=default): phases between which the
// accumulators live in an [8, 16] buffer: the bias phase, then per slab of 4
// taps a staging phase and a multiply-add phase, then the epilogue.
// SMALL-LABEL: func.func @conv_bias_relu
// SMALL: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 2, 4) {
// SMALL: memref.alloc() : memref<4x8xf32>
// SMALL: memref.alloc() : memref<4x16xf32>
// SMALL: %[[SACC:.*]] = memref.alloc() : memref<8x16xf32>
// SMALL: scf.forall (%{{.*}}, %{{.*}}) in (4, 8) {
// SMALL: memref.store %{{.*}}, %[[SACC]]
// SMALL: scf.for
// SMALL: scf.forall (%{{.*}}, %{{.*}}) in (4, 8) {
// SMALL: scf.forall (%{{.*}}, %{{.*}}) in (4, 8) {
// SMALL-COUNT-4: memref.load %[[SACC]]
// SMALL: iter_args({{(%[^,]*, ){3}%[^)]*}}) -> (f32, f32, f32, f32)
// SMALL-COUNT-4: math.fma
// SMALL-NOT: gpu.barrier

// REMARK: remark: [Passed] ConvToGPU | Category:gpu:schedule | Remark="tiled schedule: grid 1x1x1 blocks of 4x32 threads, tile 16 channels x 128 pixels x 16 taps, 4x4 per thread, 9216 bytes staged"
// BADSPACE: error: convert-qfuse-to-gpu-tiles: memory-space must be workgroup or default, not 'global'
func.func @conv_bias_relu(%x: tensor<1x8x8x8xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) -> tensor<1x16x8x8xf32> {
  %0 = qfuse.conv %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>} : (tensor<1x8x8x8xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x8x8xf32>
  return %0 : tensor<1x16x8x8xf32>
}

// -----

// One 16-channel tile of 16 pixels for 576 taps: the reduction is split in
// 4 slices of 144 taps (grid z = slice); each block writes its partial tile
// unactivated, and a flat loop adds the bias and the partials in slice order
// and applies the relu.
// CHECK-LABEL: func.func @split_reduction
// CHECK-SAME: %[[B:[a-z0-9]+]]: tensor<16xf32>
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<1x16x4x4xf32>
// CHECK: %[[PART:.*]] = memref.alloc() : memref<4x16x16xf32>
// CHECK: scf.forall (%[[Z:.*]], %{{.*}}, %{{.*}}) in (4, 1, 1) {
// CHECK: %[[SL:.*]] = arith.remui %[[Z]], %c4 : index
// CHECK: %[[K0:.*]] = arith.muli %[[SL]], %c144 : index
// CHECK: %[[K1:.*]] = arith.addi %[[K0]], %c144 : index
// CHECK: %[[KE:.*]] = arith.minui %[[K1]], %c576 : index
// CHECK: scf.for %{{.*}} = %[[K0]] to %[[KE]] step %c16 iter_args(
// CHECK: math.fma
// CHECK: memref.store %{{.*}}, %[[PART]][%[[SL]], %{{.*}}, %{{.*}}] : memref<4x16x16xf32>
// CHECK-NOT: arith.maximumf
// CHECK: {mapping = [#gpu.block<z>, #gpu.block<y>, #gpu.block<x>]}
// CHECK: scf.parallel (%[[C:.*]], %[[OH:.*]], %[[OW:.*]]) = (%c0, %c0, %c0) to (%c16, %c4, %c4)
// CHECK: %[[BV:.*]] = tensor.extract %[[B]][%[[C]]]
// CHECK: %[[P0:.*]] = memref.load %[[PART]][%c0, %[[C]], %{{.*}}]
// CHECK: %[[S0:.*]] = arith.addf %[[BV]], %[[P0]]
// CHECK: %[[P1:.*]] = memref.load %[[PART]][%c1, %[[C]], %{{.*}}]
// CHECK: %[[S1:.*]] = arith.addf %[[S0]], %[[P1]]
// CHECK: %[[P2:.*]] = memref.load %[[PART]][%c2, %[[C]], %{{.*}}]
// CHECK: %[[S2:.*]] = arith.addf %[[S1]], %[[P2]]
// CHECK: %[[P3:.*]] = memref.load %[[PART]][%c3, %[[C]], %{{.*}}]
// CHECK: %[[S3:.*]] = arith.addf %[[S2]], %[[P3]]
// CHECK: %[[R:.*]] = arith.maximumf %[[S3]], %{{.*}}
// CHECK: memref.store %[[R]], %[[OUT]][%c0, %[[C]], %[[OH]], %[[OW]]]
// REMARK: Remark="tiled schedule: grid 4x1x1 blocks of 4x32 threads, tile 16 channels x 128 pixels x 16 taps, 4x4 per thread, 9216 bytes staged; reduction split in 4 slices of 144 taps, summed with the bias by a flat loop"
func.func @split_reduction(%x: tensor<1x64x4x4xf32>, %w: tensor<16x64x3x3xf32>, %b: tensor<16xf32>) -> tensor<1x16x4x4xf32> {
  %0 = qfuse.conv %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>} : (tensor<1x64x4x4xf32>, tensor<16x64x3x3xf32>, tensor<16xf32>) -> tensor<1x16x4x4xf32>
  return %0 : tensor<1x16x4x4xf32>
}

// -----

// Depthwise (one output channel per group): the direct schedule, blocks
// over (channel, 256 pixels), one output per thread: the bias, 9 fmas with
// the input read only inside the image (no padded copy: this conv has no
// padding, so no guards), the activation-free store.
// CHECK-LABEL: func.func @depthwise
// CHECK: %[[DOUT:.*]] = memref.alloc() : memref<1x8x6x6xf32>
// CHECK: scf.forall (%[[G:.*]], %{{.*}}) in (8, 1) {
// CHECK: scf.forall (%[[T:.*]]) in (256) {
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[T]], %c36 : index
// CHECK: scf.if %[[IN]] {
// CHECK-NOT: scf.if
// CHECK-COUNT-9: math.fma
// CHECK-NOT: math.fma
// CHECK: memref.store %{{.*}}, %[[DOUT]][%{{.*}}, %[[G]], %{{.*}}, %{{.*}}]
// CHECK: } {mapping = [#gpu.thread<x>]}
// CHECK: } {mapping = [#gpu.block<y>, #gpu.block<x>]}
// CHECK-NOT: qfuse.conv
// REMARK: remark: [Passed] ConvToGPU | Category:gpu:schedule | Remark="depthwise schedule: grid 8x1 blocks of 256 threads, one output pixel per thread, 9 taps unrolled"
func.func @depthwise(%x: tensor<1x8x8x8xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x6x6xf32> {
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 8 : i64} : (tensor<1x8x8x8xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x6x6xf32>
  return %0 : tensor<1x8x6x6xf32>
}

// -----

// A linear layer is a 1x1 conv on [N, K, 1, 1]: here 1000 outputs of 1280
// inputs for one image, 16 channel tiles, split in 10 slices.
// CHECK-LABEL: func.func @linear
// CHECK-DAG: tensor.expand_shape %arg0 {{\[\[}}0], [1, 2, 3]] output_shape [1, 1280, 1, 1]
// CHECK-DAG: tensor.expand_shape %arg1 {{\[\[}}0], [1, 2, 3]] output_shape [1000, 1280, 1, 1]
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (10, 16, 1) {
// CHECK: scf.parallel
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] : tensor<1x1000x1x1xf32> into tensor<1x1000xf32>
// CHECK-NOT: qfuse.linear
// REMARK: Remark="tiled schedule: grid 10x16x1 blocks of 16x16 threads, tile 64 channels x 64 pixels x 16 taps, 4x4 per thread, 8192 bytes staged; reduction split in 10 slices of 128 taps, summed with the bias by a flat loop"
func.func @linear(%x: tensor<1x1280xf32>, %w: tensor<1000x1280xf32>, %b: tensor<1000xf32>) -> tensor<1x1000xf32> {
  %0 = qfuse.linear %x, %w, %b : (tensor<1x1280xf32>, tensor<1000x1280xf32>, tensor<1000xf32>) -> tensor<1x1000xf32>
  return %0 : tensor<1x1000xf32>
}

// -----

// Must not take: dynamic shapes, f16.
// CHECK-LABEL: func.func @dynamic
// CHECK: qfuse.conv
// REMARK: Remark="left to the generic lowering: dynamic shapes"
func.func @dynamic(%x: tensor<?x8x8x8xf32>, %w: tensor<16x8x3x3xf32>) -> tensor<?x16x6x6xf32> {
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<?x8x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<?x16x6x6xf32>
  return %0 : tensor<?x16x6x6xf32>
}

// -----

// CHECK-LABEL: func.func @half
// CHECK: qfuse.conv
// REMARK: Remark="left to the generic lowering: not f32"
func.func @half(%x: tensor<1x8x8x8xf16>, %w: tensor<16x8x3x3xf16>) -> tensor<1x16x6x6xf16> {
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x8x8x8xf16>, tensor<16x8x3x3xf16>) -> tensor<1x16x6x6xf16>
  return %0 : tensor<1x16x6x6xf16>
}
