// Compiled loops for the per-sweep hot spots that numpy can only do in several passes.
//
// A plain C ABI loaded with ctypes by ros_pointlang/kernels.py (no Python headers, so one build
// serves every interpreter). Each function reproduces its numpy fallback exactly: the same
// float32 arithmetic in the same order (built with -ffp-contract=off so no fused multiply-add
// changes a rounding), the same tie-breaking (first index wins, as numpy's argmax). The tests
// compare the two bit for bit.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

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

extern "C++" {  // templates cannot have C linkage

// Records of L 4-byte lanes (L a multiple of 4) whose float fields are all float32 on lane
// boundaries, the usual LiDAR layouts: the lanes to check are a mask known per cloud, applied
// four lanes at a time with the compiler's vector types (SSE2 on x86-64, NEON on arm64), so a
// record's check is a few vector operations instead of a loop over field offsets.
typedef uint32_t Vec4 __attribute__((vector_size(16)));

template <int L>
struct Lanes {
  Vec4 checked[L / 4];  // 0x7FFFFFFF on lanes holding a float32 field, 0 elsewhere

  bool has_nan(const uint8_t* point) const {
    // A masked lane v is NaN when v > 0x7F800000, i.e. when 0x7F800000 - v has its top bit
    // set (v <= 0x7FFFFFFF, so the difference cannot wrap further).
    Vec4 any = {0, 0, 0, 0};
    for (int k = 0; k < L / 4; ++k) {
      Vec4 lanes;
      std::memcpy(&lanes, point + 16 * k, sizeof lanes);
      any |= 0x7F800000u - (lanes & checked[k]);
    }
    return ((any[0] | any[1] | any[2] | any[3]) >> 31) != 0;
  }

  // Bit k set where record k of the `count` (<= 64) records from `point` has a NaN.
  uint64_t nan_bits(const uint8_t* point, int64_t count) const {
    uint64_t bits = 0;
    for (int64_t k = 0; k < count; ++k) bits |= uint64_t{has_nan(point + k * 4 * L)} << k;
    return bits;
  }
};

template <int L>
Lanes<L> lanes_of(const int64_t* f32_offsets, int64_t n_f32) {
  Lanes<L> lanes{};
  for (int64_t k = 0; k < n_f32; ++k) {
    lanes.checked[f32_offsets[k] / 16][(f32_offsets[k] % 16) / 4] = 0x7FFFFFFFu;
  }
  return lanes;
}

template <int L>
int64_t first_nan_lanes(const uint8_t* data, int64_t height, int64_t width, int64_t row_step,
                        const Lanes<L>& lanes) {
  for (int64_t row = 0; row < height; ++row) {
    const uint8_t* point = data + row * row_step;
    for (int64_t col = 0; col < width; col += 64) {  // one branch per 64 records
      const uint64_t bits = lanes.nan_bits(point + col * 4 * L, std::min<int64_t>(64, width - col));
      if (bits) return row * width + col + __builtin_ctzll(bits);
    }
  }
  return -1;
}

template <int L>
int64_t drop_nan_lanes(const uint8_t* data, int64_t height, int64_t width, int64_t row_step,
                       const Lanes<L>& lanes, uint8_t* out) {
  // Blocks of 64 records: checked first, then copied whole when clean (one memcpy at memory
  // speed), else record by record into the next free slot, kept by advancing `count` (no
  // branch on the data). `out` has room for every record.
  constexpr int64_t step = 4 * L;
  int64_t count = 0;
  for (int64_t row = 0; row < height; ++row) {
    const uint8_t* point = data + row * row_step;
    for (int64_t col = 0; col < width; col += 64, point += 64 * step) {
      const int64_t block = std::min<int64_t>(64, width - col);
      const uint64_t bits = lanes.nan_bits(point, block);
      if (!bits) {
        std::memcpy(out + count * step, point, static_cast<size_t>(block * step));
        count += block;
        continue;
      }
      for (int64_t k = 0; k < block; ++k) {
        std::memcpy(out + count * step, point + k * step, step);
        count += !((bits >> k) & 1);
      }
    }
  }
  return count;
}

// Calls `run(lanes)` with the Lanes<L> of the layout where the lane path applies (no float64
// field, float32 fields on 4-byte boundaries, records of 16, 32, 48 or 64 bytes) and returns
// true; false where it does not.
template <typename Run>
bool with_lanes(int64_t point_step, const int64_t* f32_offsets, int64_t n_f32, int64_t n_f64,
                Run run) {
  if (n_f64 != 0) return false;
  for (int64_t k = 0; k < n_f32; ++k) {
    if (f32_offsets[k] % 4 != 0) return false;
  }
  switch (point_step) {
    case 16: run(lanes_of<4>(f32_offsets, n_f32)); return true;
    case 32: run(lanes_of<8>(f32_offsets, n_f32)); return true;
    case 48: run(lanes_of<12>(f32_offsets, n_f32)); return true;
    case 64: run(lanes_of<16>(f32_offsets, n_f32)); return true;
    default: return false;
  }
}

}  // extern "C++"

}  // namespace

// Index (row * width + col) of the first record with a NaN in any of the given float32 and
// float64 fields (byte offsets within a record), or -1 when there is none.
int64_t pointlang_first_nan_record(const uint8_t* data, int64_t height, int64_t width,
                                   int64_t row_step, int64_t point_step,
                                   const int64_t* f32_offsets, int64_t n_f32,
                                   const int64_t* f64_offsets, int64_t n_f64) {
  int64_t first = -1;
  if (with_lanes(point_step, f32_offsets, n_f32, n_f64, [&](const auto& lanes) {
        first = first_nan_lanes(data, height, width, row_step, lanes);
      })) {
    return first;
  }
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
  if (with_lanes(point_step, f32_offsets, n_f32, n_f64, [&](const auto& lanes) {
        count = drop_nan_lanes(data, height, width, row_step, lanes, out);
      })) {
    return count;
  }
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


// --- Range images of organised sweeps (ros_pointlang/range_image.py has the numpy reference) ---

namespace {

constexpr int64_t kMaxRingId = 1023;
constexpr int64_t kMaxGap = 3;  // missing returns bridged between neighbours (MAX_GAP)
constexpr double kMaxRun = 2.0;  // metres of run that count toward the ground's slope (MAX_RUN)

bool is_return(const float* p) {
  // Finite and not exactly (0, 0, 0): 0 < max(|x|, |y|, |z|) < inf on the IEEE bits.
  uint32_t bits[3];
  std::memcpy(bits, p, sizeof bits);
  uint32_t m = bits[0] & 0x7FFFFFFFu;
  const uint32_t b = bits[1] & 0x7FFFFFFFu, c = bits[2] & 0x7FFFFFFFu;
  m = m > b ? m : b;
  m = m > c ? m : c;
  return m - 1u < 0x7F7FFFFFu;
}

int32_t find_root(std::vector<int32_t>& parent, int32_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];  // path halving
    i = parent[i];
  }
  return i;
}

void unite(std::vector<int32_t>& parent, int32_t a, int32_t b) {
  a = find_root(parent, a);
  b = find_root(parent, b);
  if (a == b) return;
  if (a < b) parent[b] = a;  // the smaller index is the root: labels are the smallest member
  else parent[a] = b;
}

struct RangeImageScratch {
  std::vector<int64_t> slot_of_id, returns, slot_of_return, lit, row_of_slot;
  std::vector<double> rise, mean;
};

struct SegmentScratch {
  std::vector<int32_t> image, parent;
  std::vector<double> last_z, last_run;
  std::vector<char> started;
};

}  // namespace

// The range image of an organised sweep of n points (x y z float32 each; every firing in place).
// `rings` (n int32, 0..1023) gives each point's ring, or is null when rows of `width` points are
// rings. The returns (finite, not all zero) are copied in order into `points`; `pixels` (n
// int32 at most) gets rows x columns entries, the index of the return in each pixel or -1, rows
// being the rings with a return ordered by mean z / range (lowest beam first, ties by ring id),
// columns = n / rings, column floor((atan2(y, x) + pi) * columns / (2 pi)) mod columns; of returns
// in one pixel the last wins. shape[0], shape[1] = rows, columns. Returns the number of returns,
// -1 for a ring id out of range, -2 when the rings are not all of one length.
int64_t pointlang_range_image(const float* xyz, int64_t n, const int32_t* rings, int64_t width,
                              float* points, int32_t* pixels, int64_t* shape) {
  // Scratch kept per thread between calls (fresh pages every sweep cost more than the work),
  // reached once through references: each use of a thread_local in a shared library is a call.
  static thread_local RangeImageScratch scratch;
  RangeImageScratch& own = scratch;
  auto &slot_of_id = own.slot_of_id, &returns = own.returns, &lit = own.lit;
  auto &slot_of_return = own.slot_of_return, &row_of_slot = own.row_of_slot;
  auto &rise = own.rise, &mean = own.mean;
  slot_of_id.assign(kMaxRingId + 1, -1);
  int64_t n_rings = 0;
  if (rings != nullptr) {
    returns.assign(kMaxRingId + 1, 0);  // firings per ring id, first
    for (int64_t i = 0; i < n; ++i) {
      if (rings[i] < 0 || rings[i] > kMaxRingId) return -1;
      returns[rings[i]] += 1;
    }
    int64_t length = 0;
    for (int64_t id = 0; id <= kMaxRingId; ++id) {
      if (returns[id] == 0) continue;
      if (length != 0 && returns[id] != length) return -2;  // rings of unequal length
      length = returns[id];
      slot_of_id[id] = n_rings++;
    }
  } else {
    n_rings = width > 0 ? n / width : 0;
  }
  if (n_rings == 0 || n % n_rings != 0) return -2;
  const int64_t columns = n / n_rings;
  returns.assign(static_cast<size_t>(n_rings), 0);
  rise.assign(static_cast<size_t>(n_rings), 0.0);
  slot_of_return.clear();
  slot_of_return.reserve(static_cast<size_t>(n));
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* p = xyz + 3 * i;
    if (!is_return(p)) continue;
    std::memcpy(points + 3 * count, p, 3 * sizeof(float));
    const int64_t slot = rings != nullptr ? slot_of_id[rings[i]] : i / width;
    const double x = p[0], y = p[1], z = p[2];
    double r2 = x * x;
    r2 = r2 + y * y;
    r2 = r2 + z * z;
    returns[slot] += 1;
    rise[slot] += z / std::sqrt(r2);
    slot_of_return.push_back(slot);
    ++count;
  }
  lit.clear();
  for (int64_t s = 0; s < n_rings; ++s) {
    if (returns[s] > 0) lit.push_back(s);
  }
  mean.assign(static_cast<size_t>(n_rings), 0.0);
  for (int64_t s : lit) mean[s] = rise[s] / static_cast<double>(returns[s]);
  std::stable_sort(lit.begin(), lit.end(), [&](int64_t a, int64_t b) { return mean[a] < mean[b]; });
  row_of_slot.assign(static_cast<size_t>(n_rings), -1);
  for (size_t k = 0; k < lit.size(); ++k) row_of_slot[lit[k]] = static_cast<int64_t>(k);
  const int64_t rows = count > 0 ? static_cast<int64_t>(lit.size()) : 0;
  std::fill(pixels, pixels + rows * columns, -1);
  const double pi = 3.141592653589793, scale = static_cast<double>(columns) / (2.0 * pi);
  for (int64_t k = 0; k < count; ++k) {
    const double azimuth = std::atan2(static_cast<double>(points[3 * k + 1]),
                                      static_cast<double>(points[3 * k]));
    const int64_t column = static_cast<int64_t>(std::floor((azimuth + pi) * scale)) % columns;
    pixels[row_of_slot[slot_of_return[k]] * columns + column] = static_cast<int32_t>(k);
  }
  shape[0] = rows;
  shape[1] = columns;
  return count;
}

// Ground removal and objects of a range image (see range_image.py): `labels` (n_points int32)
// gets, for each return of an object, the smallest point index of its object, and -1 for the
// ground, returns outside the crop box [lo, hi] and points without a pixel. A column's lowest
// return is ground, and each return above it whose rise from the column's last ground return is
// at most tan_ground * min(run, kMaxRun) (rise, run: differences in z and in horizontal range);
// neighbours in a row (wrapping) or a column, across at most
// kMaxGap pixels without an object return, join when |a - b|^2 <= tolerance2 or, for adjacent
// pixels, with dot = far . (far - near), dot <= 0 or dot^2 <= cos2_beta * (|far|^2 |far - near|^2).
// Arithmetic in double, in the order written.
void pointlang_segment_range_image(const float* points, int64_t n_points, const int32_t* pixels,
                                   int64_t rows, int64_t columns, const float* lo,
                                   const float* hi, double tan_ground, double tolerance2,
                                   double cos2_beta, int32_t* labels) {
  const int64_t size = rows * columns;
  // Scratch kept per thread between calls, as in pointlang_range_image. `image`: the point in
  // each pixel, -1 for none (or outside the crop box), -2 for ground.
  static thread_local SegmentScratch scratch;
  SegmentScratch& own = scratch;
  auto& image = own.image;
  auto& parent = own.parent;
  auto &last_z = own.last_z, &last_run = own.last_run;
  auto& started = own.started;
  image.assign(pixels, pixels + size);
  for (int64_t k = 0; k < size; ++k) {
    const int32_t i = image[k];
    if (i < 0) continue;
    const float* p = points + 3 * i;
    bool inside = true;
    for (int j = 0; j < 3; ++j) inside = inside && p[j] >= lo[j] && p[j] <= hi[j];
    if (!inside) image[k] = -1;
  }
  // Ground, column by column from the lowest ring up, walked row by row (the image's order):
  // per column whether it has a return yet and its last ground return's height and run.
  started.assign(static_cast<size_t>(columns), 0);
  last_z.assign(static_cast<size_t>(columns), 0.0);
  last_run.assign(static_cast<size_t>(columns), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < columns; ++c) {
      const int64_t k = r * columns + c;
      if (image[k] < 0) continue;
      const float* p = points + 3 * image[k];
      const double x = p[0], y = p[1], z = p[2];
      const double run = std::sqrt(x * x + y * y);
      const double allowance = tan_ground * std::min(std::fabs(run - last_run[c]), kMaxRun);
      if (!started[c] || std::fabs(z - last_z[c]) <= allowance) {
        image[k] = -2;  // a column's lowest return starts its ground
        last_z[c] = z;
        last_run[c] = run;
      }
      started[c] = 1;
    }
  }
  // Objects: union-find over points, each root the smallest point index of its tree.
  parent.resize(static_cast<size_t>(n_points));
  std::iota(parent.begin(), parent.end(), 0);
  auto join = [&](int32_t ia, int32_t ib, bool adjacent) {
    const float* pa = points + 3 * ia;
    const float* pb = points + 3 * ib;
    const double a[3] = {pa[0], pa[1], pa[2]}, b[3] = {pb[0], pb[1], pb[2]};
    const double ra = (a[0] * a[0] + a[1] * a[1]) + a[2] * a[2];
    const double rb = (b[0] * b[0] + b[1] * b[1]) + b[2] * b[2];
    const bool a_far = ra >= rb;
    double f[3], m[3];
    for (int j = 0; j < 3; ++j) {
      f[j] = a_far ? a[j] : b[j];
      m[j] = a_far ? b[j] : a[j];
    }
    const double sx = f[0] - m[0], sy = f[1] - m[1], sz = f[2] - m[2];
    const double gap2 = (sx * sx + sy * sy) + sz * sz;
    const double dot = (f[0] * sx + f[1] * sy) + f[2] * sz;
    const double far2 = a_far ? ra : rb;
    const bool steep = dot <= 0.0 || dot * dot <= cos2_beta * (far2 * gap2);
    if (gap2 <= tolerance2 || (adjacent && steep)) {
      unite(parent, ia, ib);
    }
  };
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < columns; ++c) {
      const int32_t here = image[r * columns + c];
      if (here < 0) continue;
      for (int64_t step = 1; step <= kMaxGap + 1; ++step) {
        const int32_t right = image[r * columns + (c + step) % columns];
        if (right >= 0) {
          join(here, right, step == 1);
          break;
        }
      }
      for (int64_t step = 1; step <= kMaxGap + 1 && r + step < rows; ++step) {
        const int32_t up = image[(r + step) * columns + c];
        if (up >= 0) {
          join(here, up, step == 1);
          break;
        }
      }
    }
  }
  std::fill(labels, labels + n_points, -1);
  for (int64_t k = 0; k < size; ++k) {
    if (image[k] >= 0) labels[image[k]] = find_root(parent, image[k]);
  }
}

// Voxel means of groups of points (preprocess.voxel_downsample_groups has the numpy reference):
// group g is xyz[members[offsets[g]] .. members[offsets[g + 1] - 1]]. Each group's points fall
// into cells floor(p / voxel_size) (float32, as numpy divides float32 points); `out` (as many
// x y z float32 as members at most) gets, group after group, the mean of each occupied cell in
// (x, y, z) cell order, summed in double in member order. counts[g] = the group's voxels.
void pointlang_voxel_groups(const float* xyz, const int64_t* members, const int64_t* offsets,
                            int64_t n_groups, double voxel_size, float* out, int64_t* counts) {
  static thread_local std::vector<int64_t> cell_scratch, packed_scratch;
  static thread_local std::vector<std::pair<int64_t, int64_t>> key_scratch;
  std::vector<int64_t>& cells = cell_scratch;                   // x y z per member of a group
  std::vector<std::pair<int64_t, int64_t>>& keys = key_scratch;  // (cell key, member position)
  std::vector<int64_t>& packed = packed_scratch;
  const float size = static_cast<float>(voxel_size);
  int64_t written = 0;
  for (int64_t g = 0; g < n_groups; ++g) {
    const int64_t begin = offsets[g], n = offsets[g + 1] - begin;
    cells.resize(static_cast<size_t>(3 * n));
    int64_t lo[3] = {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max(),
                     std::numeric_limits<int64_t>::max()};
    int64_t hi[3] = {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min(),
                     std::numeric_limits<int64_t>::min()};
    for (int64_t k = 0; k < n; ++k) {
      const float* p = xyz + 3 * members[begin + k];
      for (int a = 0; a < 3; ++a) {
        const int64_t c = static_cast<int64_t>(std::floor(p[a] / size));
        cells[3 * k + a] = c;
        lo[a] = std::min(lo[a], c);
        hi[a] = std::max(hi[a], c);
      }
    }
    // One integer key per cell orders cells as (x, y, z); ties keep member order. Packed with
    // the member's position into one integer where it fits (one plain sort), else paired.
    const int64_t ey = hi[1] - lo[1] + 1, ez = hi[2] - lo[2] + 1;
    const double span = static_cast<double>(hi[0] - lo[0] + 1) * static_cast<double>(ey) *
                        static_cast<double>(ez) * static_cast<double>(n);
    keys.resize(static_cast<size_t>(n));
    if (span < 4e18) {
      packed.resize(static_cast<size_t>(n));
      for (int64_t k = 0; k < n; ++k) {
        const int64_t* c = cells.data() + 3 * k;
        packed[k] = (((c[0] - lo[0]) * ey + (c[1] - lo[1])) * ez + (c[2] - lo[2])) * n + k;
      }
      std::sort(packed.begin(), packed.end());
      for (int64_t k = 0; k < n; ++k) keys[k] = {packed[k] / n, packed[k] % n};
    } else {
      for (int64_t k = 0; k < n; ++k) {
        const int64_t* c = cells.data() + 3 * k;
        keys[k] = {((c[0] - lo[0]) * ey + (c[1] - lo[1])) * ez + (c[2] - lo[2]), k};
      }
      std::sort(keys.begin(), keys.end());
    }
    const int64_t first = written;
    for (int64_t i = 0; i < n;) {
      double sum[3] = {0.0, 0.0, 0.0};
      int64_t j = i;
      for (; j < n && keys[j].first == keys[i].first; ++j) {
        const float* p = xyz + 3 * members[begin + keys[j].second];
        for (int a = 0; a < 3; ++a) sum[a] += static_cast<double>(p[a]);
      }
      const double count = static_cast<double>(j - i);
      for (int a = 0; a < 3; ++a) out[3 * written + a] = static_cast<float>(sum[a] / count);
      ++written;
      i = j;
    }
    counts[g] = written - first;
  }
}

}  // extern "C"
