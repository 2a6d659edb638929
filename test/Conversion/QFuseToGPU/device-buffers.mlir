// qfuse-gpu-device-buffers: the host side of a function with kernels moves
// every buffer to device memory; a host op that would touch one is an error.
// RUN: qfuse-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qfuse-gpu-device-buffers))' --verify-diagnostics | FileCheck %s

memref.global "private" constant @w : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>

// The input is copied in and not back (never written); the output is copied
// in and back (a kernel stores to it); the weight global is uploaded; the
// temporary becomes device memory; the host copy a gpu.memcpy; all freed.
// CHECK-LABEL: func.func @f
// CHECK-SAME: (%[[IN:.*]]: memref<4xf32>, %[[OUT:.*]]: memref<4xf32>)
// CHECK: %[[DIN:.*]] = gpu.alloc () : memref<4xf32>
// CHECK-NEXT: gpu.memcpy %[[DIN]], %[[IN]]
// CHECK: %[[DOUT:.*]] = gpu.alloc () : memref<4xf32>
// CHECK-NEXT: gpu.memcpy %[[DOUT]], %[[OUT]]
// CHECK: %[[DW:.*]] = gpu.alloc () : memref<4xf32>
// CHECK-NEXT: %[[G:.*]] = memref.get_global @w
// CHECK-NEXT: gpu.memcpy %[[DW]], %[[G]]
// CHECK: %[[TMP:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: gpu.launch
// CHECK: memref.load %[[DIN]]
// CHECK: memref.load %[[DW]]
// CHECK: memref.store %{{.*}}, %[[TMP]]
// CHECK: gpu.memcpy %[[DOUT]], %[[TMP]]
// CHECK-NOT: gpu.memcpy %[[IN]], %[[DIN]]
// CHECK: gpu.memcpy %[[OUT]], %[[DOUT]]
// CHECK-DAG: gpu.dealloc %[[DIN]]
// CHECK-DAG: gpu.dealloc %[[DOUT]]
// CHECK-DAG: gpu.dealloc %[[DW]]
// CHECK-DAG: gpu.dealloc %[[TMP]]
// CHECK: return
func.func @f(%in: memref<4xf32>, %out: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %w = memref.get_global @w : memref<4xf32>
  %tmp = memref.alloc() : memref<4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %a = memref.load %in[%tx] : memref<4xf32>
    %b = memref.load %w[%tx] : memref<4xf32>
    %p = arith.mulf %a, %b : f32
    memref.store %p, %tmp[%tx] : memref<4xf32>
    gpu.terminator
  }
  memref.copy %tmp, %out : memref<4xf32> to memref<4xf32>
  return
}

// -----

func.func @host_read(%in: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  // expected-error @+1 {{qfuse-gpu-device-buffers: 'memref.load' would run on the host on device memory (only kernels may touch buffers)}}
  %v = memref.load %in[%c0] : memref<4xf32>
  return %v : f32
}

// -----

// expected-error @+1 {{qfuse-gpu-device-buffers: memref results would be device memory; lower with results returned through out-parameters}}
func.func @memref_result(%in: memref<4xf32>) -> memref<4xf32> {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  return %in : memref<4xf32>
}

// -----

// No kernel: the function is left alone.
// CHECK-LABEL: func.func @cpu_only
// CHECK-NOT: gpu.
func.func @cpu_only(%in: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %v = memref.load %in[%c0] : memref<4xf32>
  memref.store %v, %in[%c0] : memref<4xf32>
  return
}
