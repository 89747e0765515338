// Reference GEMM: the readable triple loop every fast GEMM is tested against.
//   C[i,j] = (accumulate ? C[i,j] : 0) + sum_k opA(A)[i,k] * opB(B)[k,j]
// opA(A)[i,k] = transA ? A[k*lda + i] : A[i*lda + k]
// opB(B)[k,j] = transB ? B[j*ldb + k] : B[k*ldb + j]
// Row-major; leading dimensions in elements; pointers in bytes.
export function gemm_f32_ref(
  M: i32, N: i32, K: i32,
  A: usize, lda: i32, transA: bool,
  B: usize, ldb: i32, transB: bool,
  C: usize, ldc: i32, accumulate: bool,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s: f32 = 0;
      for (let k = 0; k < K; k++) {
        const a = load<f32>(A + ((transA ? <usize>k * lda + i : <usize>i * lda + k) << 2));
        const b = load<f32>(B + ((transB ? <usize>j * ldb + k : <usize>k * ldb + j) << 2));
        s += a * b;
      }
      const c = C + ((<usize>i * ldc + j) << 2);
      store<f32>(c, accumulate ? load<f32>(c) + s : s);
    }
  }
}
