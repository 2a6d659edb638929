// qfuse.dot_pairs: the AVX2 instruction, or portable vector ops.
// RUN: qfuse-opt %s --qfuse-lower-dot-pairs=isa=avx2 | FileCheck %s --check-prefix=AVX2
// RUN: qfuse-opt %s --qfuse-lower-dot-pairs=isa=generic | FileCheck %s --check-prefix=GENERIC
// RUN: not qfuse-opt %s --qfuse-lower-dot-pairs=isa=sse 2>&1 | FileCheck %s --check-prefix=BAD

// AVX2-LABEL: func @dot
// AVX2: %[[R:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%arg0, %arg1) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// AVX2: return %[[R]]
// A width without an instruction takes the portable form on any ISA.
// AVX2-LABEL: func @dot4
// AVX2-NOT: llvm.call_intrinsic
// AVX2: vector.shuffle

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

// BAD: qfuse-lower-dot-pairs: isa must be auto, avx2 or generic, not 'sse'
func.func @dot(%a: vector<16xi16>, %b: vector<16xi16>) -> vector<8xi32> {
  %d = qfuse.dot_pairs %a, %b : vector<16xi16> -> vector<8xi32>
  return %d : vector<8xi32>
}

func.func @dot4(%a: vector<8xi16>, %b: vector<8xi16>) -> vector<4xi32> {
  %d = qfuse.dot_pairs %a, %b : vector<8xi16> -> vector<4xi32>
  return %d : vector<4xi32>
}
