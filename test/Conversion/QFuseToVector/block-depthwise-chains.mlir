// block-depthwise (the default): conv -> depthwise -> conv, each result used
// once (MobileNet's expand, depthwise and project), keep the activations
// between them in 8-channel blocks (nChw8c). The expand writes blocks (one
// vector store per pixel and 8 channels, no transpose), the depthwise reads
// and writes them, the project reads them at a constant lane (its input
// channels 8 per iteration). The function's input and result stay NCHW.
// RUN: qfuse-opt %s --convert-qfuse-to-vector --canonicalize --cse -split-input-file --remarks-filter=vectorize --remark-format=emitRemark -verify-diagnostics | FileCheck %s
// RUN: qfuse-opt %s --convert-qfuse-to-vector=block-depthwise=false -split-input-file | FileCheck %s --check-prefix=OFF

// CHECK-LABEL: func.func @chain
// The expand: 24 channels x 4 pixels per tile, into [1, 4, 60, 8].
// CHECK:         tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3], [4]] : tensor<1x6x6x10x8xf32> into tensor<1x6x60x8xf32>
// CHECK:         scf.forall
// CHECK-COUNT-12:  vector.transfer_write %{{.*}} : vector<8xf32>, tensor<6x12x8xf32>
// CHECK:         %[[BLOCKS:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3], [4]] output_shape [1, 6, 6, 10, 8] : tensor<1x6x60x8xf32> into tensor<1x6x6x10x8xf32>
// The depthwise, per block of 8 channels.
// CHECK:         %[[DW:.*]] = scf.forall (%[[CB:.*]]) in (6)
// CHECK:           tensor.extract_slice %[[BLOCKS]][0, %[[CB]], 0, 0, 0] [1, 1, 6, 10, 8]
// The project reads the blocks: a loop over the 6 blocks, 8 lanes each.
// CHECK:         scf.forall
// CHECK:           scf.for %[[BLK:.*]] = %c0 to %c6 step %c1
// CHECK:             tensor.extract %[[DW]][%c0, %[[BLK]], %{{.*}}, %{{.*}}, %c0] : tensor<1x6x6x10x8xf32>
// CHECK:             tensor.extract %[[DW]][%c0, %[[BLK]], %{{.*}}, %{{.*}}, %c7] : tensor<1x6x6x10x8xf32>
// CHECK:         return %{{.*}} : tensor<1x16x6x10xf32>
// CHECK-NOT:     linalg.pack
// CHECK-NOT:     linalg.unpack
// OFF-LABEL:   func.func @chain
// OFF-NOT:       tensor<1x6x6x10x8xf32>
// OFF:           return
func.func @chain(%x: tensor<1x8x6x10xf32>, %w1: tensor<48x8x1x1xf32>, %w2: tensor<48x1x3x3xf32>, %w3: tensor<16x48x1x1xf32>) -> tensor<1x16x6x10xf32> {
  // expected-remark @+1 {{dense vector kernel: 24 output channels x 4 pixels per register tile, pixel-tile loop outermost, channel-blocked output (nChw8c)}}
  %1 = qfuse.conv %x, %w1 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x6x10xf32>, tensor<48x8x1x1xf32>) -> tensor<1x48x6x10xf32>
  // expected-remark @+1 {{depthwise vector kernel on channel-blocked activations (nChw8c in and out)}}
  %2 = qfuse.conv %1, %w2 {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 48 : i64} : (tensor<1x48x6x10xf32>, tensor<48x1x3x3xf32>) -> tensor<1x48x6x10xf32>
  // expected-remark @+1 {{dense vector kernel: 16 output channels x 6 pixels per register tile, pixel-tile loop outermost, channel-blocked input (nChw8c)}}
  %3 = qfuse.conv %2, %w3 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x48x6x10xf32>, tensor<16x48x1x1xf32>) -> tensor<1x16x6x10xf32>
  return %3 : tensor<1x16x6x10xf32>
}

// -----

// Must not: the expand's result has a second use (a residual), so it stays
// NCHW and so does everything after it.
// CHECK-LABEL: func.func @expand_used_twice
// CHECK-NOT:     x8xf32>
// CHECK:         return
func.func @expand_used_twice(%x: tensor<1x8x6x10xf32>, %w1: tensor<16x8x1x1xf32>, %w2: tensor<16x1x3x3xf32>, %w3: tensor<16x16x1x1xf32>) -> (tensor<1x16x6x10xf32>, tensor<1x16x6x10xf32>) {
  // expected-remark @+1 {{pointwise vector kernel}}
  %1 = qfuse.conv %x, %w1 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x6x10xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x6x10xf32>
  // expected-remark @+1 {{depthwise vector kernel: 8-wide output-row vectors}}
  %2 = qfuse.conv %1, %w2 {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 16 : i64} : (tensor<1x16x6x10xf32>, tensor<16x1x3x3xf32>) -> tensor<1x16x6x10xf32>
  // expected-remark @+1 {{pointwise vector kernel}}
  %3 = qfuse.conv %2, %w3 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x16x6x10xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x6x10xf32>
  return %3, %1 : tensor<1x16x6x10xf32>, tensor<1x16x6x10xf32>
}

// -----

// A consumer that pads its input (a 3x3 with padding 1) reads blocks too:
// its run-time weights leave no row tiles, so the blocks are padded in H and
// W (tensor.pad on [1, 2, 6, 10, 8]) and read per row of taps, the 8 lanes
// of a block unrolled inside that row loop. Its weights are packed in
// that order, [Cout/16, Cin/8, KH, 8, KW, 16], so they stream in order.
// CHECK-LABEL: func.func @padded_consumer
// CHECK-SAME:    %[[W3:[^:]*]]: tensor<16x16x3x3xf32>
// CHECK:         %[[W3X:.*]] = tensor.expand_shape %[[W3]] {{\[}}[0, 1], [2, 3], [4], [5]] output_shape [1, 16, 2, 8, 3, 3]
// CHECK:         linalg.transpose ins(%[[W3X]] : tensor<1x16x2x8x3x3xf32>) outs(%{{.*}} : tensor<1x2x3x8x3x16xf32>) permutation = [0, 2, 4, 3, 5, 1]
// CHECK:         %[[PADDED:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0]
// CHECK:           tensor<1x2x6x10x8xf32> to tensor<1x2x8x12x8xf32>
// CHECK:         scf.for %[[BLK:.*]] = %c0 to %c2 step %c1
// CHECK:           scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK:             tensor.extract %[[PADDED]][%c0, %[[BLK]], %{{.*}}, %{{.*}}, %c0] : tensor<1x2x8x12x8xf32>
// CHECK:             tensor.extract %[[PADDED]][%c0, %[[BLK]], %{{.*}}, %{{.*}}, %c7] : tensor<1x2x8x12x8xf32>
// CHECK:             scf.yield
// CHECK:           scf.yield
// CHECK-NOT:     linalg.pack
// CHECK-NOT:     linalg.unpack
// CHECK:         return %{{.*}} : tensor<1x16x6x10xf32>
func.func @padded_consumer(%x: tensor<1x8x6x10xf32>, %w1: tensor<16x8x1x1xf32>, %w2: tensor<16x1x3x3xf32>, %w3: tensor<16x16x3x3xf32>) -> tensor<1x16x6x10xf32> {
  // expected-remark @+1 {{dense vector kernel: 16 output channels x 6 pixels per register tile, pixel-tile loop outermost, channel-blocked output (nChw8c)}}
  %1 = qfuse.conv %x, %w1 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x6x10xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x6x10xf32>
  // expected-remark @+1 {{depthwise vector kernel on channel-blocked activations (nChw8c in and out)}}
  %2 = qfuse.conv %1, %w2 {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 16 : i64} : (tensor<1x16x6x10xf32>, tensor<16x1x3x3xf32>) -> tensor<1x16x6x10xf32>
  // expected-remark @+1 {{dense vector kernel: 16 output channels x 6 pixels per register tile, channel-block loop outermost, channel-blocked input (nChw8c)}}
  %3 = qfuse.conv %2, %w3 {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x16x6x10xf32>, tensor<16x16x3x3xf32>) -> tensor<1x16x6x10xf32>
  return %3 : tensor<1x16x6x10xf32>
}

// -----

// Must not: the consumer is grouped (2 groups), which the dense kernel
// does not read from blocks.
// CHECK-LABEL: func.func @grouped_consumer
// CHECK-NOT:     x8xf32>
// CHECK:         return
func.func @grouped_consumer(%x: tensor<1x8x6x10xf32>, %w1: tensor<16x8x1x1xf32>, %w2: tensor<16x1x3x3xf32>, %w3: tensor<16x8x1x1xf32>) -> tensor<1x16x6x10xf32> {
  // expected-remark @+1 {{pointwise vector kernel}}
  %1 = qfuse.conv %x, %w1 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x6x10xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x6x10xf32>
  // expected-remark @+1 {{depthwise vector kernel: 8-wide output-row vectors}}
  %2 = qfuse.conv %1, %w2 {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 16 : i64} : (tensor<1x16x6x10xf32>, tensor<16x1x3x3xf32>) -> tensor<1x16x6x10xf32>
  // expected-remark @+1 {{vector kernel}}
  %3 = qfuse.conv %2, %w3 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x16x6x10xf32>, tensor<16x8x1x1xf32>) -> tensor<1x16x6x10xf32>
  return %3 : tensor<1x16x6x10xf32>
}
