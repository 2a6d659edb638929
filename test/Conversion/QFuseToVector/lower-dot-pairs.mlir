// qfuse.dot_pairs, qfuse.dot_quads and qfuse.pair_sums: x86 instructions, or
// portable ops.
// RUN: qfuse-opt %s --qfuse-lower-dot-pairs=isa=avx2 | FileCheck %s --check-prefix=AVX2
// RUN: qfuse-opt %s --qfuse-lower-dot-pairs=isa=generic | FileCheck %s --check-prefix=GENERIC
// RUN: qfuse-opt %s --qfuse-lower-dot-pairs=isa=avxvnni | FileCheck %s --check-prefix=VNNI
// RUN: not qfuse-opt %s --qfuse-lower-dot-pairs=isa=sse 2>&1 | FileCheck %s --check-prefix=BAD
// The instructions LLVM selects for them (no such CPU needed to compile):
// RUN: qfuse-opt %s --qfuse-lower-dot-pairs=isa=avxvnni --convert-vector-to-llvm --convert-arith-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts | mlir-translate --mlir-to-llvmir | llc -mtriple=x86_64 -mattr=+avx2,+avxvnni | FileCheck %s --check-prefix=ASM-AVXVNNI
// RUN: qfuse-opt %s --qfuse-lower-dot-pairs=isa=avx512vnni --convert-vector-to-llvm --convert-arith-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts | mlir-translate --mlir-to-llvmir | llc -mtriple=x86_64 -mattr=+avx512f,+avx512vl,+avx512vnni | FileCheck %s --check-prefix=ASM-AVX512
// RUN: qfuse-opt %s --qfuse-lower-dot-pairs=isa=avx2 --convert-vector-to-llvm --convert-arith-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts | mlir-translate --mlir-to-llvmir | llc -mtriple=x86_64 -mattr=+avx2 | FileCheck %s --check-prefix=ASM-AVX2

// AVX2-LABEL: func @dot
// AVX2: %[[R:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%arg0, %arg1) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// AVX2: return %[[R]]
// A width without an instruction takes the portable form on any ISA.
// AVX2-LABEL: func @dot4
// AVX2-NOT: llvm.call_intrinsic
// AVX2: vector.shuffle
// With the int16 promise, AVX2 forms quads from vpmaddubsw and vpmaddwd.
// AVX2-LABEL: func @quads_fit
// AVX2: %[[P:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg1, %arg2) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// AVX2: %[[Q:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[P]], %{{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// AVX2: arith.addi %arg0, %[[Q]] : vector<8xi32>
// Without it vpmaddubsw could saturate: the exact portable form.
// AVX2-LABEL: func @quads
// AVX2-NOT: llvm.call_intrinsic
// AVX2: arith.extui %arg1 : vector<32xi8> to vector<32xi32>
// AVX2: arith.extsi %arg2 : vector<32xi8> to vector<32xi32>

// GENERIC-LABEL: func @dot
// GENERIC-DAG: %[[AE:.*]] = vector.shuffle %arg0, %arg0 [0, 2, 4, 6, 8, 10, 12, 14]
// GENERIC-DAG: %[[BE:.*]] = vector.shuffle %arg1, %arg1 [0, 2, 4, 6, 8, 10, 12, 14]
// GENERIC-DAG: %[[AO:.*]] = vector.shuffle %arg0, %arg0 [1, 3, 5, 7, 9, 11, 13, 15]
// GENERIC-DAG: %[[BO:.*]] = vector.shuffle %arg1, %arg1 [1, 3, 5, 7, 9, 11, 13, 15]
// GENERIC-DAG: %[[AEX:.*]] = arith.extsi %[[AE]] : vector<8xi16> to vector<8xi32>
// GENERIC-DAG: %[[BEX:.*]] = arith.extsi %[[BE]] : vector<8xi16> to vector<8xi32>
// GENERIC-DAG: %[[E:.*]] = arith.muli %[[AEX]], %[[BEX]] : vector<8xi32>
// GENERIC-DAG: %[[O:.*]] = arith.muli %{{.*}}, %{{.*}} : vector<8xi32>
// GENERIC: %[[S:.*]] = arith.addi %[[E]], %[[O]] : vector<8xi32>
// GENERIC: return %[[S]]
// GENERIC-LABEL: func @quads_fit
// GENERIC-NOT: llvm.call_intrinsic
// GENERIC: %[[X:.*]] = arith.extui %arg1 : vector<32xi8> to vector<32xi32>
// GENERIC: %[[W:.*]] = arith.extsi %arg2 : vector<32xi8> to vector<32xi32>
// GENERIC: %[[M:.*]] = arith.muli %[[X]], %[[W]] : vector<32xi32>
// GENERIC: vector.shuffle %[[M]], %[[M]] [0, 4, 8, 12, 16, 20, 24, 28]
// GENERIC: vector.shuffle %[[M]], %[[M]] [3, 7, 11, 15, 19, 23, 27, 31]
// GENERIC: arith.addi %arg0, %{{.*}} : vector<8xi32>

// VNNI-LABEL: func @quads_fit
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%arg0, %arg1, %arg2) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// VNNI-LABEL: func @quads
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%arg0, %arg1, %arg2)

// ASM-AVXVNNI-LABEL: quads:
// ASM-AVXVNNI: {vex} vpdpbusd
// ASM-AVX512-LABEL: quads:
// ASM-AVX512: vpdpbusd %ymm2, %ymm1, %ymm0
// ASM-AVX2-LABEL: dot:
// ASM-AVX2: vpmaddwd
// ASM-AVX2-LABEL: quads_fit:
// ASM-AVX2: vpmaddubsw
// ASM-AVX2: vpmaddwd

// pair_sums: vhaddps from AVX2 up; otherwise the pairs of the 16 lanes
// (lhs then rhs) in vhaddps order, as two shuffles and an add.
// AVX2-LABEL: func @pairs
// AVX2: %[[H:.*]] = llvm.call_intrinsic "llvm.x86.avx.hadd.ps.256"(%arg0, %arg1) : (vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// AVX2: return %[[H]]
// GENERIC-LABEL: func @pairs
// GENERIC-NOT: llvm.call_intrinsic
// GENERIC-DAG: %[[E:.*]] = vector.shuffle %arg0, %arg1 [0, 2, 8, 10, 4, 6, 12, 14] : vector<8xf32>, vector<8xf32>
// GENERIC-DAG: %[[O:.*]] = vector.shuffle %arg0, %arg1 [1, 3, 9, 11, 5, 7, 13, 15] : vector<8xf32>, vector<8xf32>
// GENERIC: %[[S:.*]] = arith.addf %[[E]], %[[O]] : vector<8xf32>
// GENERIC: return %[[S]]
// ASM-AVX2-LABEL: pairs:
// ASM-AVX2: vhaddps %ymm1, %ymm0, %ymm0

// BAD: qfuse-lower-dot-pairs: isa must be one of auto, generic, avx2, avxvnni, avx512vnni, not 'sse'
func.func @dot(%a: vector<16xi16>, %b: vector<16xi16>) -> vector<8xi32> {
  %d = qfuse.dot_pairs %a, %b : vector<16xi16> -> vector<8xi32>
  return %d : vector<8xi32>
}

func.func @dot4(%a: vector<8xi16>, %b: vector<8xi16>) -> vector<4xi32> {
  %d = qfuse.dot_pairs %a, %b : vector<8xi16> -> vector<4xi32>
  return %d : vector<4xi32>
}

func.func @quads_fit(%acc: vector<8xi32>, %a: vector<32xi8>, %b: vector<32xi8>) -> vector<8xi32> {
  %d = qfuse.dot_quads %acc, %a, %b {pairs_fit_i16} : vector<8xi32>, vector<32xi8>
  return %d : vector<8xi32>
}

func.func @quads(%acc: vector<8xi32>, %a: vector<32xi8>, %b: vector<32xi8>) -> vector<8xi32> {
  %d = qfuse.dot_quads %acc, %a, %b : vector<8xi32>, vector<32xi8>
  return %d : vector<8xi32>
}

func.func @pairs(%a: vector<8xf32>, %b: vector<8xf32>) -> vector<8xf32> {
  %s = qfuse.pair_sums %a, %b : vector<8xf32>
  return %s : vector<8xf32>
}
