// The flat pixel tiles (skip-padding=false; row-tiles.mlir has the row
// tiles that constant finite weights get by default) and the deinterleaved
// stride-2 depthwise rows (depthwise-pair-sums=false; the default pair sums
// are in depthwise-pair-sums.mlir).
// RUN: qfuse-opt %s --convert-qfuse-to-vector="integer-isa=generic skip-padding=false depthwise-pair-sums=false" -split-input-file --remarks-filter=vectorize --remark-format=emitRemark -verify-diagnostics | FileCheck %s

// Dense: constant weights packed at compile time to [Cout/16, Cin, KH, KW, 16];
// 12 accumulators (16 channels x 6 pixels) carried through the input-channel
// and KH loops, KW unrolled, bias as the initial value, the activation and a
// transposed store of 6-pixel rows; forall over (image, channel block).
// CHECK-LABEL: func.func @dense
// CHECK-DAG:     %[[W:[a-z0-9_]+]] = arith.constant dense<{{.*}}> : tensor<2x4x3x3x16xf32>
// The input is zero-padded plane by plane with vector stores, the planes
// shared among threads (not a tensor.pad, which lowers to scalar loops).
// CHECK-DAG:     %[[P:[a-z0-9_]+]] = scf.forall (%{{.*}}, %{{.*}}) in (1, 4) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<1x4x8x8xf32>)
// CHECK-NOT:     tensor.pad
// CHECK:         scf.forall (%[[N:[a-z0-9_]+]], %[[CB:[a-z0-9_]+]]) in (1, 2) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<1x32x36xf32>)
// CHECK:           scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<16x36xf32>)
// CHECK:             vector.transfer_read %{{.*}}[%{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<32xf32>, vector<8xf32>
// CHECK:             scf.for %[[CI:[a-z0-9_]+]] = {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:               scf.for %[[KH:[a-z0-9_]+]] =
// CHECK:                 vector.transfer_read %[[W]][%[[CB]], %[[CI]], %[[KH]], %{{.*}}, %{{.*}}]{{.*}} : tensor<2x4x3x3x16xf32>, vector<8xf32>
// CHECK:                 tensor.extract %[[P]][%[[N]], %[[CI]], %{{.*}}, %{{.*}}] : tensor<1x4x8x8xf32>
// CHECK:                 vector.broadcast %{{.*}} : f32 to vector<8xf32>
// CHECK-COUNT-2:         vector.fma %{{.*}} : vector<8xf32>
// CHECK:             arith.maximumf %{{.*}} : vector<8xf32>
// CHECK:             vector.from_elements {{.*}} : vector<6xf32>
// CHECK:             vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<6xf32>, tensor<16x36xf32>
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %{{.*}} into %{{.*}}[%[[N]], %{{.*}}, %{{.*}}] [1, 16, 36] [1, 1, 1] : tensor<16x36xf32> into tensor<1x32x36xf32>
// CHECK:         tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] output_shape [1, 32, 6, 6]
func.func @dense(%x: tensor<1x4x6x6xf32>, %b: tensor<32xf32>) -> tensor<1x32x6x6xf32> {
  %w = arith.constant dense<0.5> : tensor<32x4x3x3xf32>
  // expected-remark @+1 {{dense vector kernel: 16 output channels x 6 pixels per register tile, channel-block loop outermost}}
  %y = qfuse.conv %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = #qfuse.activation<relu>} : (tensor<1x4x6x6xf32>, tensor<32x4x3x3xf32>, tensor<32xf32>) -> tensor<1x32x6x6xf32>
  return %y : tensor<1x32x6x6xf32>
}

// -----

// Run-time weights are packed by a linalg.transpose.
// CHECK-LABEL: func.func @dense_runtime_weights
// CHECK:         tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2], [3], [4]] output_shape [1, 16, 4, 3, 3]
// CHECK:         linalg.transpose ins(%{{.*}} : tensor<1x16x4x3x3xf32>) outs(%{{.*}} : tensor<1x4x3x3x16xf32>) permutation = [0, 2, 3, 4, 1]
func.func @dense_runtime_weights(%x: tensor<1x4x6x6xf32>, %w: tensor<16x4x3x3xf32>) -> tensor<1x16x6x6xf32> {
  // expected-remark @+1 {{dense vector kernel: 16 output channels x 6 pixels}}
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<16x4x3x3xf32>) -> tensor<1x16x6x6xf32>
  return %y : tensor<1x16x6x6xf32>
}

// -----

// Channel blocks outermost with several images: where one block's packed
// weights (16 x 64 x 3 x 3 floats, 36.9 KB) outweigh one image's padded
// input (64 x 6 x 6 floats, 9.2 KB), the images go inside the blocks, so
// that each block's weights are read once for all three images: forall
// over (channel block, image).
// CHECK-LABEL: func.func @dense_images_inner
// CHECK:         scf.forall (%[[CB:[a-z0-9_]+]], %[[N:[a-z0-9_]+]]) in (2, 3)
// CHECK:           tensor.extract_slice %{{.*}}[%[[N]], %{{.*}}, %c0] [1, 16, 16] [1, 1, 1]
func.func @dense_images_inner(%x: tensor<3x64x4x4xf32>, %w: tensor<32x64x3x3xf32>) -> tensor<3x32x4x4xf32> {
  // expected-remark @+1 {{dense vector kernel: 16 output channels x 6 pixels per register tile, channel-block loop outermost}}
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<3x64x4x4xf32>, tensor<32x64x3x3xf32>) -> tensor<3x32x4x4xf32>
  return %y : tensor<3x32x4x4xf32>
}

// -----

// The same weights on 12x12 images (64 x 14 x 14 floats, 50 KB each, more
// than a block's weights): the images stay outermost.
// CHECK-LABEL: func.func @dense_images_outer
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (3, 2)
func.func @dense_images_outer(%x: tensor<3x64x12x12xf32>, %w: tensor<32x64x3x3xf32>) -> tensor<3x32x12x12xf32> {
  // expected-remark @+1 {{dense vector kernel: 16 output channels x 6 pixels per register tile, channel-block loop outermost}}
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<3x64x12x12xf32>, tensor<32x64x3x3xf32>) -> tensor<3x32x12x12xf32>
  return %y : tensor<3x32x12x12xf32>
}

// -----

// Pointwise: the input seen as [N, Cin, H·W]; 6 channels x 2 vectors of 8
// pixels; vector loads of the input, weights broadcast, contiguous stores.
// CHECK-LABEL: func.func @pointwise
// CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] : tensor<2x8x8x8xf32> into tensor<2x8x64xf32>
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (2, 1)
// CHECK:           vector.transfer_read %{{.*}} : tensor<2x8x64xf32>, vector<8xf32>
// CHECK:           tensor.extract %{{.*}} : tensor<2x8x1x1x6xf32>
// CHECK:           vector.fma
// CHECK:           vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<8xf32>, tensor<12x64xf32>
func.func @pointwise(%x: tensor<2x8x8x8xf32>, %w: tensor<12x8x1x1xf32>) -> tensor<2x12x8x8xf32> {
  // expected-remark @+1 {{pointwise vector kernel: 6 output channels x 16 pixels per register tile, pixel-tile loop outermost}}
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x8x8x8xf32>, tensor<12x8x1x1xf32>) -> tensor<2x12x8x8xf32>
  return %y : tensor<2x12x8x8xf32>
}

// -----

// Depthwise, stride 2: forall over (image, channel); the input plane read in
// place (no padded copy): row 0 touches the top padding and is emitted with
// static indices, its padding row multiplied in as zeros; rows 1..3 read
// only the plane: rows 1 and 2 go together in a loop (two rows per
// iteration, sharing input row 3: 5 input rows read, not 6), row 3 after
// it; every read that would cross the left or right edge is narrowed to
// the columns inside and its other lanes filled with zeros by the shuffle
// (lane 0 of tap 0 is the left padding, lane 4 of tap 2 the right).
// CHECK-LABEL: func.func @depthwise_stride2
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (1, 3)
// CHECK-NOT:       tensor.empty
// CHECK:           %[[INIT:.*]] = arith.constant dense<0.000000e+00> : vector<5xf32>
// CHECK:           %[[PAD:.*]] = arith.constant dense<0.000000e+00> : vector<5xf32>
// CHECK-NEXT:      vector.broadcast
// CHECK-NEXT:      vector.fma %[[PAD]], %{{.*}}, %[[INIT]] : vector<5xf32>
// CHECK:           vector.transfer_read %{{.*}} : tensor<9x9xf32>, vector<7xf32>
// CHECK:           vector.shuffle %{{.*}}, %{{.*}} [7, 0, 2, 4, 6] : vector<7xf32>, vector<7xf32>
// CHECK:           vector.transfer_read %{{.*}} : tensor<9x9xf32>, vector<9xf32>
// CHECK:           vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, 6, 8] : vector<9xf32>, vector<9xf32>
// CHECK:           vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, 6, 7] : vector<7xf32>, vector<7xf32>
// CHECK:           vector.transfer_write %{{.*}} : vector<5xf32>, tensor<5x5xf32>
// CHECK:           scf.for %{{.*}} = %c1{{.*}} to %c3{{.*}} step %c2
// CHECK-COUNT-5:     vector.shuffle %{{.*}}, %{{.*}} [7, 0, 2, 4, 6] : vector<7xf32>, vector<7xf32>
// CHECK-NOT:         vector.shuffle %{{.*}}, %{{.*}} [7, 0, 2, 4, 6] : vector<7xf32>, vector<7xf32>
// CHECK-COUNT-2:     vector.transfer_write %{{.*}} : vector<5xf32>, tensor<5x5xf32>
// CHECK:             scf.yield
// CHECK:           vector.transfer_write %{{.*}} : vector<5xf32>, tensor<5x5xf32>
func.func @depthwise_stride2(%x: tensor<1x3x9x9xf32>, %w: tensor<3x1x3x3xf32>) -> tensor<1x3x5x5xf32> {
  // expected-remark @+1 {{depthwise vector kernel}}
  %y = qfuse.conv %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 3 : i64} : (tensor<1x3x9x9xf32>, tensor<3x1x3x3xf32>) -> tensor<1x3x5x5xf32>
  return %y : tensor<1x3x5x5xf32>
}

// -----

// Depthwise, stride 2, rows of 75 outputs: chunk 0 touches the left
// padding (static columns), chunk 1 is inside the plane (the loop), then
// the 11-output tail. Inside, one 16-wide window (two 8-wide reads) per
// vector serves the tap at an even column (even lanes) and the next tap
// (odd lanes), both in the in-lane order [0, 1, 4, 5, 2, 3, 6, 7] of the
// outputs that one vshufps gives; the accumulator is put back in order
// before the store.
// At the left edge, tap 0's output 0 reads the padding: the window from
// column 1 gives outputs 1..8 in that order, and one 8-lane shuffle moves
// them one output along and puts a zero in output 0.
// CHECK-LABEL: func.func @depthwise_stride2_windows
// CHECK:         %[[EDGE:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 2, 8, 10, 4, 6, 12, 14] : vector<8xf32>, vector<8xf32>
// CHECK:         vector.shuffle %[[EDGE]], %{{.*}} [8, 0, 5, 2, 1, 4, 3, 6] : vector<8xf32>, vector<8xf32>
// CHECK:         scf.for %{{.*}} = %c32{{.*}} to %c64{{.*}} step %c32
// CHECK:           %[[LO:.*]] = vector.transfer_read %{{.*}} : tensor<3x150xf32>, vector<8xf32>
// CHECK:           %[[HI:.*]] = vector.transfer_read %{{.*}} : tensor<3x150xf32>, vector<8xf32>
// CHECK:           vector.shuffle %[[LO]], %[[HI]] [0, 2, 8, 10, 4, 6, 12, 14] : vector<8xf32>, vector<8xf32>
// CHECK:           vector.shuffle %[[LO]], %[[HI]] [1, 3, 9, 11, 5, 7, 13, 15] : vector<8xf32>, vector<8xf32>
// CHECK:           %[[ORDERED:.*]] = vector.shuffle %[[ACC:.*]], %[[ACC]] [0, 1, 4, 5, 2, 3, 6, 7] : vector<8xf32>, vector<8xf32>
// CHECK:           vector.transfer_write %[[ORDERED]]
func.func @depthwise_stride2_windows(%x: tensor<1x1x3x150xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<1x1x2x75xf32> {
  // expected-remark @+1 {{depthwise vector kernel}}
  %y = qfuse.conv %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x3x150xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x2x75xf32>
  return %y : tensor<1x1x2x75xf32>
}

// -----

// Linear: batch rows as pixels, rows stored without a transpose.
// CHECK-LABEL: func.func @linear
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (1, 1)
// CHECK:           vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<8xf32>, tensor<3x16xf32>
func.func @linear(%x: tensor<3x20xf32>, %w: tensor<16x20xf32>, %b: tensor<16xf32>) -> tensor<3x16xf32> {
  // expected-remark @+1 {{dense vector kernel: 16 output features x 3 rows per register tile}}
  %y = qfuse.linear %x, %w, %b : (tensor<3x20xf32>, tensor<16x20xf32>, tensor<16xf32>) -> tensor<3x16xf32>
  return %y : tensor<3x16xf32>
}

// -----

// Must not be taken: f16, 6 channels per group (not pointwise), a depth
// multiplier; each stays a qfuse op for convert-qfuse-to-linalg.
// CHECK-LABEL: func.func @left
// CHECK-COUNT-3: qfuse.conv
func.func @left(%x: tensor<1x4x6x6xf16>, %w: tensor<8x4x3x3xf16>, %y: tensor<1x4x6x6xf32>, %w6: tensor<6x4x3x3xf32>, %wd: tensor<8x1x3x3xf32>) -> (tensor<1x8x6x6xf16>, tensor<1x6x6x6xf32>, tensor<1x8x6x6xf32>) {
  // expected-remark @+1 {{left to the generic lowering: the vector kernels are f32; this op has f16 operands}}
  %0 = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf16>, tensor<8x4x3x3xf16>) -> tensor<1x8x6x6xf16>
  // expected-remark @+1 {{left to the generic lowering: 6 output channels per group is not a multiple of 8}}
  %1 = qfuse.conv %y, %w6 {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  // expected-remark @+1 {{left to the generic lowering: 2 output channels per group is not a multiple of 8}}
  %2 = qfuse.conv %y, %wd {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 4 : i64} : (tensor<1x4x6x6xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x6x6xf32>
  return %0, %1, %2 : tensor<1x8x6x6xf16>, tensor<1x6x6x6xf32>, tensor<1x8x6x6xf32>
}

// -----

// Integer conv: the uint8 input centred on its zero point, channel pairs
// packed into i32 (low half the even channel), padded with 0; the weights
// centred at compile time (3 - 1 = 2) and packed to [Cout/16, Cin/2, KH, KW,
// 32] i16; one qfuse.dot_pairs per pixel, tap, channel pair and vector into
// i32 accumulators that start at the bias; the requantize on the
// accumulators (f64 multiply, round half to even, clamp) and a transposed
// store of i8 rows.
// CHECK-LABEL: func.func @qconv
// CHECK:         %[[W:[a-z0-9_]+]] = arith.constant dense<2> : tensor<1x2x3x3x32xi16>
// The pairs built and padded in one vector pass per (image, pair) plane:
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (1, 2) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<1x2x8x8xi32>)
// CHECK:           %[[EVEN:.*]] = tensor.extract_slice %arg0{{.*}} : tensor<1x4x6x6xi8> to tensor<6x6xi8>
// CHECK:           %[[ODD:.*]] = tensor.extract_slice %arg0{{.*}} : tensor<1x4x6x6xi8> to tensor<6x6xi8>
// CHECK:           vector.transfer_read %[[EVEN]]{{.*}} : tensor<6x6xi8>, vector<6xi8>
// CHECK:           vector.transfer_read %[[ODD]]{{.*}} : tensor<6x6xi8>, vector<6xi8>
// CHECK:           arith.extui %{{.*}} : vector<6xi8> to vector<6xi32>
// CHECK:           arith.shli
// CHECK:           arith.extui %{{.*}} : vector<6xi8> to vector<6xi32>
// CHECK:           arith.andi
// CHECK:           arith.ori %{{.*}} : vector<6xi32>
// CHECK:         scf.forall {{.*}} -> (tensor<1x16x36xi8>)
// CHECK:           vector.transfer_read %{{.*}} : tensor<16xi32>, vector<8xi32>
// CHECK:           vector.transfer_read %[[W]]{{.*}} : tensor<1x2x3x3x32xi16>, vector<16xi16>
// CHECK:           %[[B:.*]] = vector.broadcast %{{.*}} : i32 to vector<8xi32>
// CHECK:           %[[PAIRS:.*]] = vector.bitcast %[[B]] : vector<8xi32> to vector<16xi16>
// CHECK:           %[[DOT:.*]] = qfuse.dot_pairs %[[PAIRS]], %{{.*}} : vector<16xi16> -> vector<8xi32>
// CHECK:           arith.addi %{{.*}}, %[[DOT]] : vector<8xi32>
// CHECK:         arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf64>
// CHECK:         math.roundeven %{{.*}} : vector<8xf64>
// CHECK:         arith.fptosi %{{.*}} : vector<8xf64> to vector<8xi32>
// CHECK:         arith.trunci %{{.*}} : vector<8xi32> to vector<8xi8>
// CHECK:         vector.from_elements {{.*}} : vector<6xi8>
func.func @qconv(%x: tensor<1x4x6x6xi8>) -> tensor<1x16x6x6xi8> {
  %w = arith.constant dense<3> : tensor<16x4x3x3xi8>
  %b = arith.constant dense<7> : tensor<16xi32>
  %sx = arith.constant dense<0.05> : tensor<f32>
  %zx = arith.constant dense<128> : tensor<i32>
  %zw = arith.constant dense<1> : tensor<i32>
  %sw = arith.constant dense<0.01> : tensor<16xf32>
  %sy = arith.constant dense<0.1> : tensor<f32>
  %zy = arith.constant dense<0> : tensor<i32>
  // expected-remark @+1 {{integer dense vector kernel: 16 output channels x 6 pixels per register tile, int16 channel pairs through qfuse.dot_pairs, channel-block loop outermost}}
  %y = qfuse.qconv %x, %w bias(%b) zero_points(%zx, %zw) requantize(%sx, %sw, %sy, %zy) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, input_uint8, quant_min = -128 : i64, quant_max = 127 : i64, activation = #qfuse.activation<relu>} : (tensor<1x4x6x6xi8>, tensor<16x4x3x3xi8>, tensor<16xi32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<16xf32>, tensor<f32>, tensor<i32>) -> tensor<1x16x6x6xi8>
  return %y : tensor<1x16x6x6xi8>
}

// -----

// Not taken: odd input channels per group with groups (the kernel reads
// pairs; only an ungrouped odd count is padded), run-time weights.
// CHECK-LABEL: func.func @qconv_left
// CHECK-COUNT-2: qfuse.qconv
func.func @qconv_left(%x: tensor<1x6x6x6xi8>, %x2: tensor<1x4x6x6xi8>, %w2: tensor<8x4x1x1xi8>) -> (tensor<1x16x6x6xi32>, tensor<1x8x6x6xi32>) {
  %w = arith.constant dense<3> : tensor<16x3x1x1xi8>
  %z = arith.constant dense<0> : tensor<i32>
  // expected-remark @+1 {{left to the generic lowering: 3 input channels per group is odd (the kernel reads channel pairs; an odd count is padded only without groups)}}
  %a = qfuse.qconv %x, %w zero_points(%z, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x6x6x6xi8>, tensor<16x3x1x1xi8>, tensor<i32>, tensor<i32>) -> tensor<1x16x6x6xi32>
  // expected-remark @+1 {{left to the generic lowering: the weights or their zero points are not constants (they are packed at compile time)}}
  %b = qfuse.qconv %x2, %w2 zero_points(%z, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x6x6xi8>, tensor<8x4x1x1xi8>, tensor<i32>, tensor<i32>) -> tensor<1x8x6x6xi32>
  return %a, %b : tensor<1x16x6x6xi32>, tensor<1x8x6x6xi32>
}

// -----

// A strided transposed convolution with a constant weight becomes one
// stride-1 convolution per output phase (stride 2: two), each on the
// undilated input with its sub-kernel (taps 0 and 2 of the 3, or tap 1),
// transposed and flipped at compile time, its output inserted with stride 2
// from the phase's first output (1 and 0); then the kernels.
// CHECK-LABEL: func.func @transposed
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<1x8x10xf32>
// CHECK:         arith.constant dense<{{.*}}> : tensor<8x4x2xf32>
// CHECK:         %[[P0:.*]] = tensor.insert_slice %{{.*}} into %[[E]][0, 0, 1] [1, 8, 5] [1, 1, 2]
// CHECK:         arith.constant dense<{{.*}}> : tensor<8x4x1xf32>
// CHECK:         tensor.insert_slice %{{.*}} into %[[P0]][0, 0, 0] [1, 8, 5] [1, 1, 2]
// CHECK-NOT:     qfuse.conv
func.func @transposed(%x: tensor<1x4x5xf32>) -> tensor<1x8x10xf32> {
  %w = arith.constant dense<0.25> : tensor<4x8x3xf32>
  // expected-remark @+3 {{transposed convolution as 2 stride-1 convolutions, one per output phase (the constant weight split, flipped and transposed at compile time)}}
  // expected-remark @+2 {{dense vector kernel: 8 output channels}}
  // expected-remark @+1 {{pointwise vector kernel}}
  %y = qfuse.conv_transpose %x, %w {strides = array<i64: 2>, padding = array<i64: 1, 1>, dilations = array<i64: 1>, output_padding = array<i64: 1>} : (tensor<1x4x5xf32>, tensor<4x8x3xf32>) -> tensor<1x8x10xf32>
  return %y : tensor<1x8x10xf32>
}

// -----

// Dilation 2 (stride 1): one convolution on the input padded by
// dilation·(K−1) − pad = 3 and 1 (zeros, x inserted), the weight flipped.
// CHECK-LABEL: func.func @transposed_dilated
// CHECK:         %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x4x8x8xf32>)
// CHECK:         tensor.insert_slice %arg0 into %[[Z]][0, 0, 3, 1] [1, 4, 4, 4] [1, 1, 1, 1]
// CHECK:         scf.forall
// CHECK-NOT:     qfuse.conv
func.func @transposed_dilated(%x: tensor<1x4x4x4xf32>) -> tensor<1x8x4x4xf32> {
  %w = arith.constant dense<0.25> : tensor<4x8x3x3xf32>
  // expected-remark @+2 {{transposed convolution as a stride-1 convolution on the input dilated by the stride (the constant weight flipped and transposed at compile time)}}
  // expected-remark @+1 {{dense vector kernel: 8 output channels}}
  %y = qfuse.conv_transpose %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 3, 3, 1>, dilations = array<i64: 2, 2>, output_padding = array<i64: 0, 0>} : (tensor<1x4x4x4xf32>, tensor<4x8x3x3xf32>) -> tensor<1x8x4x4xf32>
  return %y : tensor<1x8x4x4xf32>
}

// -----

// An integer 1x1 (stride 1, no padding) in the pairs form: the pointwise
// kernel. The pairs input is read as [N, Cin/2, Q] (a 9-pixel row: one
// 8-pixel vector and one of 1), each channel's pair of centred weights is
// one i32 broadcast to all lanes, and vpmaddwd-s of the two accumulate.
// CHECK-LABEL: func.func @qpointwise
// CHECK:         tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<1x2x3x3xi32> into tensor<1x2x9xi32>
// CHECK:         %[[X:.*]] = vector.transfer_read %{{.*}} : tensor<1x2x9xi32>, vector<8xi32>
// CHECK:         %[[XP:.*]] = vector.bitcast %[[X]] : vector<8xi32> to vector<16xi16>
// CHECK:         %[[W:.*]] = vector.transfer_read %{{.*}} : tensor<4x2x1x1x8xi16>, vector<2xi16>
// CHECK:         vector.bitcast %[[W]] : vector<2xi16> to vector<1xi32>
// CHECK:         %[[WB:.*]] = vector.broadcast %{{.*}} : i32 to vector<8xi32>
// CHECK:         %[[WP:.*]] = vector.bitcast %[[WB]] : vector<8xi32> to vector<16xi16>
// CHECK:         qfuse.dot_pairs %[[XP]], %[[WP]] : vector<16xi16> -> vector<8xi32>
func.func @qpointwise(%x: tensor<1x4x3x3xi8>) -> tensor<1x16x3x3xi8> {
  %w = arith.constant dense<3> : tensor<16x4x1x1xi8>
  %b = arith.constant dense<7> : tensor<16xi32>
  %s = arith.constant dense<0.05> : tensor<f32>
  %zx = arith.constant dense<128> : tensor<i32>
  %z = arith.constant dense<0> : tensor<i32>
  // expected-remark @+1 {{integer pointwise vector kernel: 4 output channels x 9 pixels per register tile, int16 channel pairs through qfuse.dot_pairs}}
  %y = qfuse.qconv %x, %w bias(%b) zero_points(%zx, %z) requantize(%s, %s, %s, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, input_uint8, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x4x3x3xi8>, tensor<16x4x1x1xi8>, tensor<16xi32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>) -> tensor<1x16x3x3xi8>
  return %y : tensor<1x16x3x3xi8>
}
