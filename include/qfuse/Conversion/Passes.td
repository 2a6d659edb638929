//===- Passes.td - qfuse conversion passes -----------------*- tablegen -*-===//

#ifndef QFUSE_CONVERSION_PASSES_TD
#define QFUSE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQFuseToLinalg : Pass<"convert-qfuse-to-linalg"> {
  let summary = "Lower qfuse ops to linalg, tensor and arith on tensors";
  let description = [{
    Every qfuse op becomes linalg / tensor / arith / math on tensors:

    * `qfuse.conv` (1/2/3-D, any groups, depthwise) is one `linalg.generic`
      correlation over `[N, G, Cout/G, O...]` x `[Cin/G, K...]` that
      accumulates onto the broadcast bias, followed by an elementwise epilogue
      that applies the fused activation in place on the result (and rounds
      f16/bf16 back from the f32 accumulator);
    * `qfuse.conv_transpose` is the same correlation on the input dilated by
      the stride and padded by `dilation·(K−1) − pad` (cropped where that is
      negative), reading the kernel flipped from `[Cin, Cout/G, K...]`;
    * `qfuse.linear`, `qfuse.batch_norm`, `qfuse.relu`, `qfuse.clamp`,
      `qfuse.fake_quant` (per tensor and per channel, round half to even,
      dividing by the scale) are `linalg.generic` ops;
    * `qfuse.qat_conv_bn` is PyTorch's approximate ConvBn forward:
      `conv(x, fq(W·k)) / k + b`, batch-norm with batch statistics (train,
      which also yields the running statistics updated with the momentum and
      the unbiased batch variance) or running statistics (frozen), then the
      activation. Where γ = 0 the channel uses k = 1, so its output is β
      rather than PyTorch's NaN.

    `linalg.pack` / `linalg.unpack` left in the function (channel-blocked
    activations around an op that no vector kernel took in) become a
    transpose with an expand or collapse of the blocked dimension
    (`linalg::lowerPack` / `lowerUnPack`), so that they bufferize.

    f16 and bf16 convolutions and linears accumulate in f32; fake_quant and
    batch_norm compute in f32 (f64 for f64 tensors). An op that cannot be
    lowered (dynamic shapes on a conv, conv_transpose, linear or QAT op) is left in place
    and named by `qfuse-check-lowered`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LowerDotPairs : Pass<"qfuse-lower-dot-pairs"> {
  let summary = "Lower qfuse.dot_pairs / dot_quads / pair_sums to x86 "
                "instructions or portable ops, and qfuse.store_fence";
  let description = [{
    `qfuse.dot_pairs` on 16 x i16 becomes `vpmaddwd`
    (`llvm.x86.avx2.pmadd.wd`) from AVX2 up. `qfuse.dot_quads` on 32 x i8
    becomes `vpdpbusd` (`llvm.x86.avx512.vpdpbusd.256`, selected as the VEX
    form on AVX-VNNI) with `avxvnni` or `avx512vnni`, and on AVX2, where its
    `pairs_fit_i16` promise holds, `vpmaddubsw` then `vpmaddwd` by ones and
    an add. Everything else (other widths, `generic`, AVX2 without the
    promise) becomes shuffles, extensions, multiplies and adds computing the
    same lanes. `qfuse.pair_sums` becomes `vhaddps`
    (`llvm.x86.avx.hadd.ps.256`) from AVX2 up, else two shuffles and an
    add. `qfuse.store_fence` becomes `sfence` on an x86 host, else
    `llvm.fence seq_cst`. `auto` is the
    host. `qfuse-lower-to-llvm` runs it after
    bufferization and the OpenMP conversion: the intrinsic calls have no
    memory-effect model (bufferization rejects them, and the
    `memref.alloca_scope` of a threaded loop body is inlined only when no op
    in it may allocate).
  }];
  let options = [
    Option<"isa", "isa", "std::string", /*default=*/"\"auto\"",
           "auto (the host's), generic, avx2, avxvnni or avx512vnni">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::vector::VectorDialect"];
}

def ConvertQFuseToVector : Pass<"convert-qfuse-to-vector"> {
  let summary = "Register-tiled vector kernels for f32 conv and linear, and "
                "max-pooling";
  let description = [{
    Rewrites f32 `qfuse.conv` and `qfuse.linear` ops with static shapes into
    explicit kernels of `scf` and `vector` ops on tensors (NCHW kept at the
    boundary), for the CPU pipeline. Ops it does not take stay for
    `convert-qfuse-to-linalg`, with a missed remark (category `vectorize`)
    that says why.

    * Dense and grouped convolutions (1/2/3-D, any stride, dilation and
      padding; output channels per group a multiple of 8): weights are packed
      to `[Cout/T, Cin/G, K..., T]` (at compile time when constant), and a
      register tile of `T = 8·V` output channels by `P` output pixels
      accumulates in `V·P` 8-lane vectors: per input channel and tap, `V`
      weight vector loads, `P` input broadcasts and `V·P` FMAs; bias as the
      initial value, the fused activation and a transposed store at the end.
      By default `V` is 2 (3 or 1 where 16 does not divide the channels) and
      `V·P` = 12. The outer loop is the channel block when the packed
      weights are larger than one padded input image, else the pixel tile,
      and it is an `scf.forall` (one OpenMP worksharing loop with
      `num-threads`).
    * Row tiles (`skip-padding`, 2-D; the integer kernels with either loop
      outermost, f32 at column stride 1 with either; with the pixels
      outermost one output row per forall iteration): where a
      multiply-add on the spatial padding adds exactly nothing (finite
      constant f32 weights: 0·w = 0; integer pairs, centred and padded with
      0; quads whose shifted zero point is 0), each output row is split
      into column tiles whose pixels' columns are constants: the tap-row
      loop is bounded by the output row to the rows of the input, and a
      pixel's taps on padding columns are not emitted. Rows of more than 4
      tiles take tiles of two adjacent widths (56 columns: 8 × 5 + 4 × 4)
      and run the wider interior ones (no padding column) in a loop, the
      others static. f32 row tiles read the input in place (no padded
      copy). f32 tiles hold at most 5 pixels with 2
      vectors, 7 with one (more spills); a row that one 8-channel tile
      holds whole takes `V` = 1. 18% of the multiply-adds of a 3×3 conv on
      7×7, 9% on 14×14, 4.6% on 28×28. Weights with an inf or NaN, or not
      constant, keep every tap (0·inf is NaN in the padded convolution).
    * Depthwise 2-D convolutions: up to four 8-wide vectors along an output
      row accumulate the `KH·KW` taps, reading the f32 input plane in place
      (rows and column chunks that touch the padding get static indices
      and reads narrowed to the plane, their other lanes zero); stride `s`
      reads `w·s` contiguous inputs and keeps every `s`-th (stride 2: one
      window serves two adjacent taps, in the lane order one `vshufps`
      gives); interior rows two at a time, the input rows they share read
      once; `scf.forall` over (image, channel). f32 3-tap rows at stride 2
      (`depthwise-pair-sums`): the input as read times `[w1 w2 w1 w2 …]`
      (middle and last taps, pair by pair) plus, two columns earlier, the
      odd columns picked by one `vshufps` per tap row times w0 (first
      taps), then one `qfuse.pair_sums` per 8 outputs.
    * Depthwise 2-D f32 convolutions on channel-blocked activations: where
      the input is a `linalg.unpack` from 8-channel blocks (nChw8c,
      `[N, C/8, H, W, 8]`: `inner_dims_pos = [1]`, `inner_tiles = [8]`,
      every block full) and the result's only use is the matching
      `linalg.pack`, the kernel reads and writes the blocks and both
      relayouts go. A vector is one pixel's 8 channels, so a tap is one FMA
      by its 8 weights at any stride, without shuffles; 4 adjacent output
      pixels per register tile read each input column once; rows and column
      tiles on the padding are static and multiply zeros there;
      `scf.forall` over (image, block). MobileNetV2's 3×3/2 on 112×112×96:
      0.085 against 0.125 ms on planar data (oneDNN, on the same blocks:
      0.116). Layers that stream from memory get cache hints: an input
      over `prefetch-min-bytes` is prefetched `prefetch-distance` bytes
      ahead (`qfuse.prefetch`, one per 64-byte line a tile is first to
      read), and where input and output together exceed
      `nontemporal-min-bytes` the output is written with non-temporal
      stores (`qfuse.nontemporal_write`, aligned ones only, checked at run
      time) and each work item ends with a `qfuse.store_fence`.
    * Linear layers: the dense kernel with the batch rows as pixels, stored
      row-major.
    * Transposed convolutions with a constant weight. Strided ones with
      dilation 1 and every kernel dimension at least its stride: one
      stride-1 `qfuse.conv` per output phase (stride^S of them), each on the
      undilated input (cropped or padded as the phase needs) with its
      sub-kernel of taps `r + j·s`, transposed per group and flipped at
      compile time, inserted into the output with the stride; no
      multiply-add hits a zero. Otherwise (dilation, a kernel smaller than
      its stride, stride 1): one stride-1 convolution on the input dilated
      by the stride and padded by `dilation·(K−1) − pad` (+ `output_padding`
      at the end). Then the kernels above. Padding beyond the kernel's reach
      on that second path, and run-time weights, stay with the generic
      lowering.
    * Integer `qfuse.qconv` (constant weights and weight zero points, output
      channels per group a multiple of 8; `integer-kernels`), two forms of
      the dense kernel, both exact, with the requantize and the activation
      on the accumulators as in the generic lowering, bit for bit:
      - quads (the VNNI layout), where the centred weights fit int8 and
        `integer-isa` has `vpdpbusd` (avxvnni, avx512vnni), or is avx2 and
        every `vpmaddubsw` pair sum provably fits int16 (7-bit inputs, from
        the producer's quant range or a `qfuse.value_range` argument
        attribute): four uint8 channels per i32 (int8 input shifted by
        +128), weights packed to `[Cout/T, Cin/G/4, K..., 4T]` i8, one
        `qfuse.dot_quads` per quad, tap and 8 channels; the accumulators
        start at `bias − zx'·Σw`, the zero-point compensation;
      - pairs otherwise: the input centred and two channels packed per i32
        (an odd count without groups padded at the zero point), weights to
        `[Cout/T, Cin/G/2, K..., 2T]` i16, one `qfuse.dot_pairs`
        (`vpmaddwd`: |x − zx|·|w − zw| <= 255·255) per pair, tap and 8
        channels;
      - in either form a 1x1, stride-1, unpadded qconv takes the pointwise
        tile instead (vectors along the pixels, each channel's packed
        weights broadcast, rows stored as they are).
    * Integer depthwise 2-D `qfuse.qconv`: the f32 depthwise kernel on the
      centred values, exact while every partial sum stays below 2^24
      (checked per channel).
    * f32 `linalg.pooling_nchw_max` with 2×2 or 3×3 windows at stride 2
      (a 3×3 one padded by a `tensor.pad` of one row and column at the top
      and left, any at the bottom and right; the output a constant fill):
      per (image, channel) plane and output row the window's rows are
      combined first, 8 input columns per vector, then two shuffles split
      16 columns into even and odd ones, and a 3×3 window's first column is
      the previous odd one, carried along the row. The input is read in
      place; rows and columns outside it read as the padding value.
      Bit-identical to the generic lowering. ResNet-18's 3×3/2 on
      112×112×64: 0.11 ms against 3.6 ms generic.

    Every op taken gets a passed remark naming its kernel and tile.
  }];
  let options = [
    Option<"tileVectors", "tile-vectors", "int64_t", /*default=*/"0",
           "8-lane channel vectors per register tile (0: by shape)">,
    Option<"tilePixels", "tile-pixels", "int64_t", /*default=*/"0",
           "Output pixels per register tile (0: 12 / tile-vectors)">,
    Option<"loopOrder", "loop-order", "std::string", /*default=*/"\"auto\"",
           "Outer loop: auto, weights (channel blocks) or input (pixel tiles)">,
    Option<"batchPrepareBytes", "batch-prepare-bytes", "int64_t",
           /*default=*/"524288",
           "Dense kernels: the size of a whole batch's prepared (padded, "
           "packed) input up to which it is prepared in one pass; beyond it "
           "the images go one at a time, each prepared and then convolved "
           "while it is in cache (0: always one at a time)">,
    Option<"prefetchDistance", "prefetch-distance", "int64_t",
           /*default=*/"32768",
           "Channel-blocked depthwise kernels with an input larger than "
           "prefetch-min-bytes: prefetch it this many bytes ahead of the "
           "reads (0: never)">,
    Option<"prefetchMinBytes", "prefetch-min-bytes", "int64_t",
           /*default=*/"8388608",
           "See prefetch-distance">,
    Option<"nontemporalMinBytes", "nontemporal-min-bytes", "int64_t",
           /*default=*/"33554432",
           "Channel-blocked depthwise kernels: non-temporal stores when input "
           "and output together are larger than this (0: never)">,
    Option<"skipPadding", "skip-padding", "bool", /*default=*/"true",
           "Dense 2-D kernels (integer, and f32 at column stride 1): tile each "
           "output row, and leave out the multiply-adds on the spatial "
           "padding where they add exactly nothing (finite constant f32 "
           "weights, whose input is then read in place; integer pairs; "
           "quads with a zero shifted zero point)">,
    Option<"blockDepthwise", "block-depthwise", "bool", /*default=*/"true",
           "Put the activations on both sides of a depthwise convolution "
           "into 8-channel blocks (nChw8c) where the convolutions before and "
           "after it take them (conv -> depthwise -> conv, each result used "
           "once): the kernels read and write the blocks">,
    Option<"depthwisePairSums", "depthwise-pair-sums", "bool",
           /*default=*/"true",
           "Depthwise 3-tap rows at stride 2: multiply the input as read and "
           "sum adjacent lanes once per output vector (false: deinterleave "
           "every tap row's input with shuffles)">,
    Option<"integerKernels", "integer-kernels", "bool", /*default=*/"true",
           "Take qfuse.qconv (false: leave it to the generic lowering)">,
    Option<"integerIsa", "integer-isa", "std::string", /*default=*/"\"auto\"",
           "What the integer kernels target: auto (the host), generic, avx2, "
           "avxvnni or avx512vnni (the quads form where it is exact)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

def ExpandQat : Pass<"qfuse-expand-qat"> {
  let summary = "Expand qfuse.qat_conv_bn so that its convolution is a qfuse op";
  let description = [{
    Rewrites each `qfuse.qat_conv_bn` (static shapes) the way
    `convert-qfuse-to-linalg` lowers it, but leaves the pieces that are qfuse
    ops as qfuse ops: the convolution on `fq(W·k)` is a `qfuse.conv` (or
    `conv_transpose` / `linear`) and the weight fake-quant a
    `qfuse.fake_quant`; k, `y / k + b`, the batch statistics, their running
    update and the normalisation are linalg ops. The lowering pipelines run it
    first, so that the QAT convolution gets the CPU vector kernels and the
    GPU tiled schedule like any other convolution. Same arithmetic as
    `convert-qfuse-to-linalg`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def CheckLowered : Pass<"qfuse-check-lowered"> {
  let summary = "Fail, naming each one, if any qfuse op is left";
  let description = [{
    Run after `convert-qfuse-to-linalg`: every qfuse op that is still present
    is reported as an error at its location (with the reason when known), and
    the pass fails, so that a pipeline never hands qfuse ops to bufferization
    or LLVM lowering.
  }];
}

def FuseElementwise : Pass<"qfuse-fuse-elementwise"> {
  let summary = "Fuse elementwise linalg ops where that recomputes nothing";
  let description = [{
    Upstream's `linalg-fuse-elementwise-ops` (elementwise producers with one
    use fused into their consumers, reshapes folded by expansion, constant
    folding), except that a producer is fused only where its consumer reads
    it through a permutation of the consumer's loops. Through a broadcast
    (a per-channel generic read by a `[N, C, H, W]` one) the fused producer
    would run once per element: `qfuse.batch_norm`'s per-channel γ /
    sqrt(σ² + ε) became a division and a square root per element (144×56×56
    with a ReLU: 1.25 ms, against 0.1 computed once per channel).
  }];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def CopyToLinalg : Pass<"qfuse-copy-to-linalg"> {
  let summary = "Rewrite strided memref.copy ops as linalg.copy";
  let description = [{
    A `memref.copy` whose source or target is not contiguous (a subview of
    a padded buffer, say) lowers to a call of the runtime's element-by-element
    `memrefCopy`. This pass makes each such copy a `linalg.copy`, which
    lowers to loops with the rest of the linalg ops (vectorized by LLVM, and
    parallel with `num-threads`). Copies between two identity-layout memrefs
    are left alone (they become a memcpy).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def SequentializeNestedParallel : Pass<"qfuse-sequentialize-nested-parallel"> {
  let summary = "Keep only outermost scf.parallel loops parallel";
  let description = [{
    Rewrites every `scf.parallel` (without reductions) that is nested in
    another loop into a nest of `scf.for`, so that `convert-scf-to-openmp`
    forks threads once per linalg op, over its outer parallel dimensions,
    and never inside a reduction loop. The exception is a sequential
    `scf.for` marked `qfuse.fork_per_iteration` (the vector kernels' loop
    over the images of a large batch): the parallel loops in its body stay
    parallel and fork once per iteration. An outermost loop keeps only the
    shortest prefix of its dimensions with at least 64 iterations (static
    counts) parallel; the remaining dimensions become a sequential nest
    inside, so each OpenMP iteration is a vectorizable row rather than one
    element.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def ConvertQFuseToGPUTiles : Pass<"convert-qfuse-to-gpu-tiles"> {
  let summary = "Tiled block/thread schedule for f32 conv (+bias+activation)";
  let description = [{
    Rewrites f32 `qfuse.conv` ops with static shapes (1/2/3-D, any stride,
    dilation, padding and groups) into one schedule. With at least 2 output
    channels per group it is tiled: an implicit GEMM per group, `M = Cout/G` output
    channels by `P = N·O...` output pixels by `K = Cin/G·K...` taps.

        scf.forall (g, mb, nb) mapped to #gpu.block<z, y, x>:
          ws = alloc [BK, BM], xs = alloc [BK, BN]     (shared memory)
          thread forall:
            acc[TM x TN] = bias                        (registers)
            for k0 in 0..K step BK (iter_args acc):
              ws, xs <- weight / input (zero outside the padding and the
                        tile), each thread a strided share
              gpu.barrier
              BK fused multiply-adds into each accumulator
              gpu.barrier
            out = activation(acc)

    Every thread forall is `(TY, TX) = (BM/TM, BN/TN)` mapped to
    `#gpu.thread<y, x>`; a thread owns channels `i·TY+ty` and pixels
    `j·TX+tx`, so the staged reads are conflict-free and the output stores
    coalesced. Bias, the accumulation and the fused activation are one
    kernel. `memory-space=workgroup` stages in GPU shared memory (for
    `qfuse-map-to-gpu`); `default` keeps ordinary buffers, and the same
    schedule runs as sequential loops on the CPU (`qfuse-lower-to-llvm
    gpu-schedule=true`), so the tiling is tested without a GPU.

    Tiles by shape unless given: `BM` = the channel count rounded up to a
    power of two within [16, 64] and `BK` = 16. With `BM` = 64, where tiles
    of 128 pixels still give at least half of `target-blocks` blocks, `BN` =
    128 and `TM` = `TN` = 8 (large layers); otherwise `BN` = 64 when `BM` =
    64 else 128, and `TM` = `TN` = 4.

    On the GPU (`memory-space=workgroup`) the accumulation is one thread
    phase: each thread's TM x TN accumulators stay in registers across the
    whole reduction, with a `gpu.barrier` after each staging and after each
    slab's multiply-adds. On the CPU (`default`) the same arithmetic runs as
    the phases above, the accumulators kept in a `[BM, BN]` buffer between
    them, because sequential loops cannot run a barrier; each output element
    sees the same fused multiply-adds in the same order, so the two are
    bit-equal.

    Deep layers at small batch give few tiles (ResNet-18's 7x7x512 at batch
    1: 8 blocks for a GPU of 132 multiprocessors). When the tiles give fewer
    than half of `target-blocks` blocks, the reduction over taps is split
    into slices of at least 8 BK steps, as many as reach about
    `target-blocks` blocks (the grid's z is group x slice): each block writes
    its partial tile to a buffer `[slices, Cout, P]`, and a flat
    `scf.parallel` over the output adds the bias and the partials in slice
    order and applies the activation (a second kernel on the GPU). The CPU
    run of the schedule splits the same way, so the two stay bit-equal.

    With one output channel per group (depthwise) there is nothing to share
    across a channel tile; the schedule is direct instead: a block forall
    over (group, 256 output pixels) mapped to `#gpu.block<y, x>`, a thread
    forall of 256 mapped to `#gpu.thread<x>`, each thread one output: the
    bias, one fma per tap in (input channel, window) order with the input
    read only inside the image, the activation, the store. Windows of up to
    64 taps are unrolled, larger ones loop.

    f32 `qfuse.linear` ops with static shapes are taken as 1x1 convs (input
    [N, K] as [N, K, 1, 1]), so a classifier's weights are staged and its
    reduction split like a deep conv's, rather than one thread per output.

    Other ops, and convs it does not take
    (a missed remark in category `gpu` says why), go on to the generic
    lowering. Every op taken gets a passed remark with its tiles.
  }];
  let options = [
    Option<"tileChannels", "tile-channels", "int64_t", /*default=*/"0",
           "BM: output channels per block (0: by shape)">,
    Option<"tilePixels", "tile-pixels", "int64_t", /*default=*/"0",
           "BN: output pixels per block (0: by shape)">,
    Option<"tileReduction", "tile-reduction", "int64_t", /*default=*/"16",
           "BK: taps staged per step">,
    Option<"threadChannels", "thread-channels", "int64_t", /*default=*/"0",
           "TM: output channels per thread (0: by shape)">,
    Option<"threadPixels", "thread-pixels", "int64_t", /*default=*/"0",
           "TN: output pixels per thread (0: by shape)">,
    Option<"memorySpace", "memory-space", "std::string",
           /*default=*/"\"workgroup\"",
           "Staging buffers: workgroup (GPU shared memory) or default">,
    Option<"targetBlocks", "target-blocks", "int64_t", /*default=*/"264",
           "Split the reduction over taps when the tiles give fewer than "
           "half this many blocks (0: never); 264 is two blocks per "
           "multiprocessor of an H100">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ParallelDimsOutermost : Pass<"qfuse-parallel-dims-outermost"> {
  let summary = "Permute linalg ops' loops so that parallel dimensions are "
                "outermost";
  let description = [{
    For the GPU's flat launches: `convert-linalg-to-parallel-loops` emits one
    `scf.parallel` per run of parallel dimensions, in the op's loop order,
    and `qfuse-map-to-gpu` maps only the outermost one to threads. A grouped
    or depthwise convolution iterates (n, g, f, kh, kw, oh, ow)-like orders,
    so its output pixels would become a sequential loop inside each thread.
    This pass generalizes every linalg op outside a `scf.forall` whose
    parallel dimensions are not already first, and interchanges its loops:
    the parallel dimensions first, then the reductions, each in their
    original order. Each output element still accumulates its terms in the
    same order, so results are bit-identical; only which thread computes
    what changes.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def MapToGPU : Pass<"qfuse-map-to-gpu"> {
  let summary = "Map bufferized loops to gpu.launch: schedules and flat loops";
  let description = [{
    Runs after bufferization, on host functions:
    * every outermost `scf.forall` mapped to `#gpu.block<...>` (the schedule
      of `convert-qfuse-to-gpu-tiles`) becomes one `gpu.launch`: its
      induction variables are the block ids, workgroup-space `memref.alloc`
      ops in its body become workgroup attributions (shared memory), and
      each nested `scf.forall` mapped to `#gpu.thread<...>` is inlined with
      the thread ids (guarded where it has fewer iterations than the block)
      and followed by a `gpu.barrier`;
    * every other outermost `scf.parallel` (the parallel dimensions of a
      linalg op: fake_quant, batch-norm, the QAT op's pieces) becomes one
      `gpu.launch` over its iterations linearized, `block-size` threads per
      block, innermost dimension fastest (coalesced), with a bounds guard;
      reduction dimensions stay sequential loops in each thread.
    Bounds must be static; anything else is an error at the loop.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block for flattened parallel loops">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect"];
}

def GpuDeviceBuffers : Pass<"qfuse-gpu-device-buffers", "::mlir::func::FuncOp"> {
  let summary = "Give the host code of mapped functions device buffers";
  let description = [{
    Runs after `qfuse-map-to-gpu`, before kernel outlining, on functions
    that launch kernels, so that they run on the host with every kernel
    reading and writing device memory (the calling convention of
    `qfuse-run --device=cuda`):
    * each memref argument is copied to a `gpu.alloc` at entry, and copied
      back before each return when the function writes it (stores in
      kernels, copy targets, through views);
    * `memref.alloc` becomes `gpu.alloc`, freed before each return
      (`memref.dealloc` becomes `gpu.dealloc`);
    * `memref.get_global` (constant weights) is copied to a `gpu.alloc`
      where it is taken, and freed before each return;
    * `memref.copy` becomes `gpu.memcpy` (both sides contiguous).
    A host op that would read or write device memory (a load, a store, a
    call, a loop left on the host, memref results) is an error at its
    location: nothing falls back silently to host pointers.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect"];
}

#endif // QFUSE_CONVERSION_PASSES_TD
