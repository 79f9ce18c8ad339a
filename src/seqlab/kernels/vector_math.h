// exp, sigmoid and tanh for float and double written so that a compiler vectorizes loops that call them.
//
// libm's exp and tanh are calls the compiler cannot vectorize (and glibc's tanh costs ~25 ns), which made
// the LSTM's gate arithmetic slower than the matrix products. Here exp is Cody-Waite range reduction
// (x = n ln2 + r, |r| <= ln2/2), a Taylor polynomial of e^r (degree 7 for float, 13 for double: error below
// 1 ulp of the type, ~6e-8 / ~2e-16 relative) and 2^n built in the exponent bits, all branch-free.
// Inputs are clamped to the range where e^x and e^-x are finite, so finite inputs give finite results;
// NaN propagates. tanh(x) = 2 sigmoid(2x) - 1 (absolute error ~1 ulp of 1).
//
// SEQLAB_VECTOR_CLONES marks a function to be compiled twice, for x86-64-v3 (AVX2, FMA) and for the baseline,
// with the copy chosen when the library loads (GCC function multiversioning); elsewhere it is empty.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SEQLAB_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SEQLAB_VECTOR_CLONES
#endif
#define SEQLAB_INLINE inline __attribute__((always_inline))

namespace seqlab_math {

template <typename T>
struct ExpTraits;

template <>
struct ExpTraits<float> {
  using Bits = uint32_t;
  static constexpr int kMantissaBits = 23, kExponentBias = 127, kDegree = 7;
  static constexpr float kLowest = -87.0f, kHighest = 88.0f;                  // e^x normal and finite
  static constexpr float kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;  // ln 2 = high + low
  static constexpr float kRoundingShift = 12582912.0f;                         // 1.5 * 2^23
};

template <>
struct ExpTraits<double> {
  using Bits = uint64_t;
  static constexpr int kMantissaBits = 52, kExponentBias = 1023, kDegree = 13;
  static constexpr double kLowest = -708.0, kHighest = 709.0;
  static constexpr double kLn2High = 0.693145751953125, kLn2Low = 1.42860682030941723212e-6;
  static constexpr double kRoundingShift = 6755399441055744.0;  // 1.5 * 2^52
};

// e^r ~ 1 + r (1 + r/2 (1 + r/3 (... (1 + r/N)))): the Taylor polynomial in Horner form, unrolled at
// compile time (a loop here would keep the compiler from vectorizing the caller's loop).
template <typename T, int K, int N>
struct TaylorExp {
  static SEQLAB_INLINE T eval(T r) { return T(1) + r * (T(1) / T(K)) * TaylorExp<T, K + 1, N>::eval(r); }
};

template <typename T, int N>
struct TaylorExp<T, N, N> {
  static SEQLAB_INLINE T eval(T r) { return T(1) + r * (T(1) / T(N)); }
};

template <typename To, typename From>
SEQLAB_INLINE To bit_cast(From value) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast needs equal sizes");
  To result;
  std::memcpy(&result, &value, sizeof(To));
  return result;
}

template <typename T>
SEQLAB_INLINE T exp(T x) {
  using Traits = ExpTraits<T>;
  using Bits = typename Traits::Bits;
  x = std::min(std::max(x, Traits::kLowest), Traits::kHighest);  // NaN stays NaN (comparisons are false)
  constexpr T kLog2e = T(1.44269504088896340736);
  // n = round(x / ln 2): adding 1.5 * 2^mantissa leaves n in the low mantissa bits of `shifted`.
  const T shifted = x * kLog2e + Traits::kRoundingShift;
  const T n = shifted - Traits::kRoundingShift;
  const T r = (x - n * Traits::kLn2High) - n * Traits::kLn2Low;  // |r| <= ln2 / 2
  const T poly = TaylorExp<T, 1, Traits::kDegree>::eval(r);
  // 2^n: the low bits of `shifted` hold n (mod 2^12 is enough), moved into the exponent field.
  const Bits exponent = (bit_cast<Bits>(shifted) + Bits(Traits::kExponentBias)) << Traits::kMantissaBits;
  return poly * bit_cast<T>(exponent);
}

template <typename T>
SEQLAB_INLINE T sigmoid(T x) {
  return T(1) / (T(1) + seqlab_math::exp(-x));
}

template <typename T>
SEQLAB_INLINE T tanh(T x) {
  return T(2) * seqlab_math::sigmoid(T(2) * x) - T(1);
}

}  // namespace seqlab_math
