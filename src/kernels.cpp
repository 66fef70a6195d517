// Compiled loops for the per-sweep hot spots that numpy can only do in several passes.
//
// A plain C ABI loaded with ctypes by ros_pointlang/kernels.py (no Python headers, so one build
// serves every interpreter). Each function reproduces its numpy fallback exactly: the same
// float32 arithmetic in the same order (built with -ffp-contract=off so no fused multiply-add
// changes a rounding), the same tie-breaking (first index wins, as numpy's argmax). The tests
// compare the two bit for bit.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

extern "C" {

// Valid x, y, z of a cloud whose x, y, z are native float32 at `offset`, `offset + 4` and
// `offset + 8` of each point, copied into `out` (height * width * 3 floats at most). With
// `drop_invalid`, points with a NaN or infinite coordinate and exact (0, 0, 0) points are left
// out. Returns the number of points written.
int64_t pointlang_xyz_from_cloud(const uint8_t* data, int64_t height, int64_t width,
                                 int64_t row_step, int64_t point_step, int64_t offset,
                                 int32_t drop_invalid, float* out) {
  int64_t count = 0;
  for (int64_t row = 0; row < height; ++row) {
    const uint8_t* point = data + row * row_step + offset;
    for (int64_t col = 0; col < width; ++col, point += point_step) {
      uint32_t bits[3];
      std::memcpy(bits, point, sizeof bits);
      // Written unconditionally and kept by advancing `count`: no branch to mispredict on
      // sensors whose clouds are half "no return" zeros. `out` has room for every point.
      std::memcpy(out + 3 * count, bits, sizeof bits);
      // Valid means 0 < max(|x|, |y|, |z|) < inf: on the IEEE bits without the sign that is
      // 1 <= m <= 0x7F7FFFFF, as Inf and NaN carry the largest exponent.
      uint32_t m = bits[0] & 0x7FFFFFFFu;
      const uint32_t b = bits[1] & 0x7FFFFFFFu, c = bits[2] & 0x7FFFFFFFu;
      m = m > b ? m : b;
      m = m > c ? m : c;
      count += !drop_invalid || (m - 1u < 0x7F7FFFFFu);
    }
  }
  return count;
}

namespace {

bool has_nan(const uint8_t* point, const int64_t* f32_offsets, int64_t n_f32,
             const int64_t* f64_offsets, int64_t n_f64) {
  // No early exit: a data-dependent branch per field mispredicts on clouds with scattered
  // NaN, and the loads are already in cache.
  bool nan = false;
  for (int64_t k = 0; k < n_f32; ++k) {
    uint32_t bits;
    std::memcpy(&bits, point + f32_offsets[k], sizeof bits);
    nan |= (bits & 0x7FFFFFFFu) > 0x7F800000u;  // all-ones exponent, mantissa != 0
  }
  for (int64_t k = 0; k < n_f64; ++k) {
    uint64_t bits;
    std::memcpy(&bits, point + f64_offsets[k], sizeof bits);
    nan |= (bits & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull;
  }
  return nan;
}

}  // namespace

// Index (row * width + col) of the first record with a NaN in any of the given float32 and
// float64 fields (byte offsets within a record), or -1 when there is none.
int64_t pointlang_first_nan_record(const uint8_t* data, int64_t height, int64_t width,
                                   int64_t row_step, int64_t point_step,
                                   const int64_t* f32_offsets, int64_t n_f32,
                                   const int64_t* f64_offsets, int64_t n_f64) {
  for (int64_t row = 0; row < height; ++row) {
    const uint8_t* point = data + row * row_step;
    for (int64_t col = 0; col < width; ++col, point += point_step) {
      if (has_nan(point, f32_offsets, n_f32, f64_offsets, n_f64)) return row * width + col;
    }
  }
  return -1;
}

// The records without such a NaN, copied into `out` in cloud order. Returns how many.
int64_t pointlang_drop_nan_records(const uint8_t* data, int64_t height, int64_t width,
                                   int64_t row_step, int64_t point_step,
                                   const int64_t* f32_offsets, int64_t n_f32,
                                   const int64_t* f64_offsets, int64_t n_f64, uint8_t* out) {
  int64_t count = 0;
  if (point_step % 8 == 0 && point_step <= 64) {
    // Small records (most LiDAR layouts): each is copied word by word into the next free slot
    // and kept by advancing `count`, with no branch on the data.
    const int64_t words = point_step / 8;
    for (int64_t row = 0; row < height; ++row) {
      const uint8_t* point = data + row * row_step;
      for (int64_t col = 0; col < width; ++col, point += point_step) {
        uint8_t* slot = out + count * point_step;
        for (int64_t w = 0; w < words; ++w) {
          uint64_t word;
          std::memcpy(&word, point + 8 * w, sizeof word);
          std::memcpy(slot + 8 * w, &word, sizeof word);
        }
        count += !has_nan(point, f32_offsets, n_f32, f64_offsets, n_f64);
      }
    }
    return count;
  }
  // Other records are copied in runs: few large memcpy calls when NaN are rare.
  for (int64_t row = 0; row < height; ++row) {
    const uint8_t* point = data + row * row_step;
    const uint8_t* run = point;
    int64_t run_length = 0;
    for (int64_t col = 0; col < width; ++col, point += point_step) {
      if (!has_nan(point, f32_offsets, n_f32, f64_offsets, n_f64)) {
        ++run_length;
        continue;
      }
      std::memcpy(out + count * point_step, run, static_cast<size_t>(run_length * point_step));
      count += run_length;
      run = point + point_step;
      run_length = 0;
    }
    std::memcpy(out + count * point_step, run, static_cast<size_t>(run_length * point_step));
    count += run_length;
  }
  return count;
}

// Farthest point sampling of `n_clouds` clouds stored one after another in `xyz` (sizes[k]
// points each, x y z float32 interleaved), `num_points` indices per cloud into `out`, starting
// at index `start` of each. Every cloud must have more than `num_points` points.
// Distances are float32 (dx*dx + dy*dy) + dz*dz; the first farthest point wins ties.
void pointlang_farthest_point_sample(const float* xyz, const int64_t* sizes, int64_t n_clouds,
                                     int64_t num_points, int64_t start, float* scratch,
                                     int64_t* out) {
  for (int64_t k = 0; k < n_clouds; ++k) {
    const int64_t n = sizes[k];
    float* distance = scratch;
    for (int64_t i = 0; i < n; ++i) distance[i] = std::numeric_limits<float>::infinity();
    int64_t index = start;
    for (int64_t step = 0; step < num_points; ++step) {
      out[step] = index;
      const float cx = xyz[3 * index], cy = xyz[3 * index + 1], cz = xyz[3 * index + 2];
      float best = -std::numeric_limits<float>::infinity();
      int64_t best_index = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float dx = xyz[3 * i] - cx, dy = xyz[3 * i + 1] - cy, dz = xyz[3 * i + 2] - cz;
        float d = dx * dx;
        d = d + dy * dy;
        d = d + dz * dz;
        const float kept = distance[i] < d ? distance[i] : d;  // np.minimum without NaN
        distance[i] = kept;
        if (kept > best) {
          best = kept;
          best_index = i;
        }
      }
      index = best_index;
    }
    xyz += 3 * n;
    out += num_points;
  }
}

}  // extern "C"
