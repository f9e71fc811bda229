//! The in-memory vector index: every paper's embedding as an i8 row, scanned exactly.
//!
//! Vectors are unit length, so cosine similarity is a dot product. Each row is quantised to i8
//! with its own scale (`max |x| / 127`): a quarter of f32's memory and bandwidth, which is what an
//! exact scan is bound by. The query is quantised the same way and the dot product is computed in
//! i32, with AVX2 where the CPU has it (chosen at run time through `pulp`, which keeps this code
//! free of `unsafe`). The best `k` are kept in a bounded heap as the scan goes; a large index is
//! scanned in parts on scoped threads, one per core, and their best `k` merged. Papers an admin hid
//! are never returned. BENCHMARKS.md compares this scan with HNSW.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashSet};
use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

/// Rows scored per kernel call.
const BLOCK_ROWS: usize = 512;
/// From this many rows on, a scan is split across threads (one per core, at most
/// [`MAX_SCAN_THREADS`]): below it a thread's start costs more than it saves.
const PARALLEL_ROWS: usize = 32_768;
const MAX_SCAN_THREADS: usize = 4;

/// Embeddings of one model, one row per paper.
#[derive(Debug, Default)]
pub struct VectorIndex {
    dim: usize,
    ids: RowIds,
    data: Vec<i8>,
    scales: Vec<f32>,
    /// Papers an admin hid, with or without a row yet.
    hidden: HashSet<String>,
    /// Their rows: skipped by [`VectorIndex::nearest`].
    hidden_rows: HashSet<usize>,
}

/// A row and its score, ordered by score and then by row, lower rows first.
#[derive(Debug, Clone, Copy)]
struct Scored(f32, usize);

impl PartialEq for Scored {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Scored {}
impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scored {
    /// Greater is better: a higher score, or the same score on an earlier row.
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
    }
}

/// The paper id of every row, and the row of every id, in one copy of the ids: at 115k papers
/// about 2 MB, where a `Vec<String>` and a `HashMap<String, usize>` took about 11.
#[derive(Debug, Default)]
struct RowIds {
    /// Every id, back to back in row order; `ends[row]` is where that row's id ends.
    text: String,
    ends: Vec<u32>,
    /// Rows, found by their id's hash.
    table: HashTable<u32>,
    hasher: RandomState,
}

impl RowIds {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn id(&self, row: usize) -> &str {
        id_at(&self.text, &self.ends, row)
    }

    fn row(&self, id: &str) -> Option<usize> {
        let (text, ends) = (&self.text, &self.ends);
        self.table
            .find(self.hasher.hash_one(id), |&row| {
                id_at(text, ends, row as usize) == id
            })
            .map(|&row| row as usize)
    }

    /// Adds `id` (not yet present) as the next row; returns that row.
    fn push(&mut self, id: &str) -> usize {
        let row = self.ends.len();
        self.text.push_str(id);
        self.ends
            .push(u32::try_from(self.text.len()).expect("under 4 GB of paper ids"));
        let (text, ends, hasher) = (&self.text, &self.ends, &self.hasher);
        self.table.insert_unique(
            hasher.hash_one(id),
            u32::try_from(row).expect("under 4 billion rows"),
            |&r| hasher.hash_one(id_at(text, ends, r as usize)),
        );
        row
    }
}

fn id_at<'a>(text: &'a str, ends: &[u32], row: usize) -> &'a str {
    let start = if row == 0 { 0 } else { ends[row - 1] as usize };
    &text[start..ends[row] as usize]
}

impl VectorIndex {
    pub fn new(dim: usize) -> VectorIndex {
        VectorIndex {
            dim,
            ..VectorIndex::default()
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// Bytes held by the matrix (for the RSS budget).
    pub fn matrix_bytes(&self) -> usize {
        self.data.len() + self.scales.len() * 4
    }

    /// Adds or replaces the vector of `id`. Vectors of the wrong length are ignored.
    pub fn upsert(&mut self, id: &str, vector: &[f32]) {
        if vector.len() != self.dim {
            return;
        }
        let (q, scale) = quantize(vector);
        match self.ids.row(id) {
            Some(row) => {
                self.data[row * self.dim..(row + 1) * self.dim].copy_from_slice(&q);
                self.scales[row] = scale;
            }
            None => {
                let row = self.ids.push(id);
                if self.hidden.contains(id) {
                    self.hidden_rows.insert(row);
                }
                self.data.extend_from_slice(&q);
                self.scales.push(scale);
            }
        }
    }

    /// The stored (dequantised) vector of `id`.
    pub fn get(&self, id: &str) -> Option<Vec<f32>> {
        let row = self.ids.row(id)?;
        let scale = self.scales[row];
        Some(
            self.data[row * self.dim..(row + 1) * self.dim]
                .iter()
                .map(|&v| f32::from(v) * scale)
                .collect(),
        )
    }

    /// Cosine similarity of `query` and the row of `id`, scored as [`VectorIndex::nearest`]
    /// scores it (both quantised), or None when `id` has no row or is hidden.
    pub fn similarity(&self, query: &[f32], id: &str) -> Option<f32> {
        self.similarities(query, [id]).pop().flatten()
    }

    /// [`VectorIndex::similarity`] of `query` and each of `ids`, in order; the query is
    /// quantised once.
    pub fn similarities<'a>(
        &self,
        query: &[f32],
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Vec<Option<f32>> {
        let usable = query.len() == self.dim && self.dim > 0;
        let (q, q_scale) = quantize(query);
        ids.into_iter()
            .map(|id| {
                let row = self.ids.row(id)?;
                if !usable || self.hidden_rows.contains(&row) {
                    return None;
                }
                let mut dot = [0i32];
                dot_rows(
                    &q,
                    &self.data[row * self.dim..(row + 1) * self.dim],
                    &mut dot,
                );
                Some(dot[0] as f32 * self.scales[row] * q_scale)
            })
            .collect()
    }

    /// Hides or shows `id` in [`VectorIndex::nearest`] (it may get its vector later).
    pub fn set_hidden(&mut self, id: &str, hidden: bool) {
        let row = self.ids.row(id);
        if hidden {
            if self.hidden.insert(id.to_owned())
                && let Some(row) = row
            {
                self.hidden_rows.insert(row);
            }
        } else if self.hidden.remove(id)
            && let Some(row) = row
        {
            self.hidden_rows.remove(&row);
        }
    }

    /// The `k` rows most similar to `query` (cosine, best first), skipping `exclude` and hidden
    /// papers.
    pub fn nearest(&self, query: &[f32], k: usize, exclude: Option<&str>) -> Vec<(String, f32)> {
        if query.len() != self.dim || self.dim == 0 || self.is_empty() || k == 0 {
            return Vec::new();
        }
        let (q, q_scale) = quantize(query);
        let skip = exclude.and_then(|id| self.ids.row(id));
        let rows = self.len();
        let parts = if rows >= PARALLEL_ROWS {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_SCAN_THREADS))
        } else {
            1
        };
        // Whole blocks per part, so each part's kernel calls are the same as one scan's.
        let per_part = rows.div_ceil(parts).div_ceil(BLOCK_ROWS) * BLOCK_ROWS;
        let mut best: Vec<Scored> = if parts == 1 {
            self.scan(&q, q_scale, k, skip, 0..rows)
        } else {
            std::thread::scope(|scope| {
                let scans: Vec<_> = (0..parts)
                    .map(|p| {
                        let range = (p * per_part).min(rows)..((p + 1) * per_part).min(rows);
                        let q = &q;
                        scope.spawn(move || self.scan(q, q_scale, k, skip, range))
                    })
                    .collect();
                scans
                    .into_iter()
                    .flat_map(|scan| scan.join().unwrap_or_default())
                    .collect()
            })
        };
        best.sort_unstable_by(|a, b| b.cmp(a));
        best.truncate(k);
        best.into_iter()
            .filter(|s| s.0.is_finite())
            .map(|Scored(score, row)| (self.ids.id(row).to_owned(), score))
            .collect()
    }

    /// The best `k` of `rows` (unordered), skipping `skip` and hidden rows.
    fn scan(
        &self,
        q: &[i8],
        q_scale: f32,
        k: usize,
        skip: Option<usize>,
        rows: std::ops::Range<usize>,
    ) -> Vec<Scored> {
        // A min-heap of the best k so far: its top is the one to beat.
        let mut best: BinaryHeap<Reverse<Scored>> = BinaryHeap::with_capacity(k + 1);
        let mut dots = vec![0i32; BLOCK_ROWS];
        let data = &self.data[rows.start * self.dim..rows.end * self.dim];
        for (block, chunk) in data.chunks(BLOCK_ROWS * self.dim).enumerate() {
            let dots = &mut dots[..chunk.len() / self.dim];
            dot_rows(q, chunk, dots);
            let first = rows.start + block * BLOCK_ROWS;
            for (i, &dot) in dots.iter().enumerate() {
                let row = first + i;
                let scored = Scored(dot as f32 * self.scales[row] * q_scale, row);
                let wanted = best.len() < k || best.peek().is_some_and(|w| scored > w.0);
                if !wanted || skip == Some(row) || self.hidden_rows.contains(&row) {
                    continue;
                }
                if best.len() == k {
                    best.pop();
                }
                best.push(Reverse(scored));
            }
        }
        best.into_iter().map(|Reverse(s)| s).collect()
    }
}

fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return (vec![0; v.len()], 0.0);
    }
    let scale = max / 127.0;
    (
        v.iter()
            .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
            .collect(),
        scale,
    )
}

/// `out[i]` = `q` · row `i` of `rows` (rows of `q.len()` values), with the widest instructions
/// this CPU has: an AVX2 multiply-add kernel on x86-64, elsewhere the portable loop compiled for
/// the best instruction set `pulp` finds.
fn dot_rows(q: &[i8], rows: &[i8], out: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    if q.len().is_multiple_of(32)
        && let Some(simd) = pulp::x86::V3::try_new()
    {
        simd.vectorize(DotRowsAvx2 { simd, q, rows, out });
        return;
    }
    pulp::Arch::new().dispatch(DotRows { q, rows, out });
}

struct DotRows<'a> {
    q: &'a [i8],
    rows: &'a [i8],
    out: &'a mut [i32],
}

impl pulp::WithSimd for DotRows<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        for (o, row) in self
            .out
            .iter_mut()
            .zip(self.rows.chunks_exact(self.q.len()))
        {
            *o = dot_i8(self.q, row);
        }
    }
}

/// The i8 dot product; written over fixed chunks so the compiler vectorises it.
#[inline(always)]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; 16];
    let mut ca = a.chunks_exact(16);
    let mut cb = b.chunks_exact(16);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..16 {
            acc[i] += i32::from(x[i]) * i32::from(y[i]);
        }
    }
    let tail: i32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    acc.iter().sum::<i32>() + tail
}

/// [`dot_rows`] for AVX2, 32 values at a time: sign-extend to i16, multiply and add pairs into
/// i32 lanes (`vpmaddwd`). Exact: two products of |x| ≤ 128 fit an i32 lane with room to spare.
#[cfg(target_arch = "x86_64")]
struct DotRowsAvx2<'a> {
    simd: pulp::x86::V3,
    q: &'a [i8],
    rows: &'a [i8],
    out: &'a mut [i32],
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for DotRowsAvx2<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        use std::arch::x86_64::__m256i;
        let simd = self.simd;
        let widen = |v: __m256i| {
            (
                simd.avx2
                    ._mm256_cvtepi8_epi16(simd.avx._mm256_castsi256_si128(v)),
                simd.avx2
                    ._mm256_cvtepi8_epi16(simd.avx2._mm256_extracti128_si256::<1>(v)),
            )
        };
        let load = |c: &[i8]| -> __m256i { pulp::cast(<[i8; 32]>::try_from(c).unwrap_or([0; 32])) };
        let q: Vec<(__m256i, __m256i)> = self.q.chunks_exact(32).map(|c| widen(load(c))).collect();
        for (o, row) in self
            .out
            .iter_mut()
            .zip(self.rows.chunks_exact(self.q.len()))
        {
            let mut lo = simd.avx._mm256_setzero_si256();
            let mut hi = simd.avx._mm256_setzero_si256();
            for (&(ql, qh), c) in q.iter().zip(row.chunks_exact(32)) {
                let (rl, rh) = widen(load(c));
                lo = simd
                    .avx2
                    ._mm256_add_epi32(lo, simd.avx2._mm256_madd_epi16(ql, rl));
                hi = simd
                    .avx2
                    ._mm256_add_epi32(hi, simd.avx2._mm256_madd_epi16(qh, rh));
            }
            let lanes: [i32; 8] = pulp::cast(simd.avx2._mm256_add_epi32(lo, hi));
            *o = lanes.iter().sum();
        }
    }
}

/// Normalises `v` to unit length in place (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        normalize(&mut v);
        v
    }

    #[test]
    fn nearest_ranks_by_cosine_and_skips_the_excluded_row() {
        let mut index = VectorIndex::new(3);
        index.upsert("a", &unit(&[1.0, 0.0, 0.0]));
        index.upsert("b", &unit(&[0.9, 0.1, 0.0]));
        index.upsert("c", &unit(&[0.0, 1.0, 0.0]));
        let got = index.nearest(&unit(&[1.0, 0.05, 0.0]), 2, None);
        assert_eq!(
            got.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let got = index.nearest(&unit(&[1.0, 0.0, 0.0]), 5, Some("a"));
        assert_eq!(
            got.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(),
            ["b", "c"]
        );
        assert!((got[0].1 - 0.9939).abs() < 0.01);
    }

    #[test]
    fn hidden_papers_are_skipped_even_when_their_vector_comes_later() {
        let mut index = VectorIndex::new(2);
        index.upsert("a", &unit(&[1.0, 0.0]));
        index.upsert("b", &unit(&[0.9, 0.1]));
        index.set_hidden("a", true);
        index.set_hidden("c", true);
        index.upsert("c", &unit(&[1.0, 0.01]));
        let ids = |index: &VectorIndex| {
            index
                .nearest(&unit(&[1.0, 0.0]), 5, None)
                .into_iter()
                .map(|h| h.0)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&index), ["b"]);
        index.set_hidden("a", false);
        index.set_hidden("c", false);
        assert_eq!(ids(&index), ["a", "c", "b"]);
    }

    #[test]
    fn the_simd_kernels_agree_with_the_scalar_dot_product() {
        let mut rng = 0x9E3779B97F4A7C15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng >> 56) as i8
        };
        for dim in [3, 32, 384, 400] {
            let q: Vec<i8> = (0..dim).map(|_| next()).collect();
            let mut rows: Vec<i8> = (0..dim * 7).map(|_| next()).collect();
            rows[..dim].fill(-128);
            let mut q = q;
            q.fill(-128);
            let mut out = vec![0; 7];
            dot_rows(&q, &rows, &mut out);
            for (row, got) in rows.chunks_exact(dim).zip(&out) {
                let want: i32 = q
                    .iter()
                    .zip(row)
                    .map(|(a, b)| i32::from(*a) * i32::from(*b))
                    .sum();
                assert_eq!(*got, want, "dim {dim}");
            }
            q.iter_mut().for_each(|x| *x = next());
            dot_rows(&q, &rows, &mut out);
            for (row, got) in rows.chunks_exact(dim).zip(&out) {
                let want: i32 = q
                    .iter()
                    .zip(row)
                    .map(|(a, b)| i32::from(*a) * i32::from(*b))
                    .sum();
                assert_eq!(*got, want, "dim {dim}");
            }
        }
    }

    #[test]
    fn nearest_keeps_the_best_k_of_many_rows_in_order() {
        let mut index = VectorIndex::new(2);
        for i in 0..2000 {
            let a = i as f32 / 2000.0;
            index.upsert(&format!("p{i}"), &unit(&[a.cos(), a.sin()]));
        }
        let got = index.nearest(&unit(&[1.0, 0.0]), 3, Some("p0"));
        let scores: Vec<f32> = got.iter().map(|h| h.1).collect();
        assert_eq!(got.len(), 3);
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        assert!(got.iter().all(|h| h.0 != "p0"));
    }

    #[test]
    fn a_scan_split_across_threads_finds_what_one_scan_finds() {
        let dim = 32;
        let mut rng = 0x2545F4914F6CDD1Du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let mut index = VectorIndex::new(dim);
        let rows = PARALLEL_ROWS + 3 * BLOCK_ROWS + 7;
        for i in 0..rows {
            let v: Vec<f32> = (0..dim).map(|_| next()).collect();
            index.upsert(&format!("p{i}"), &unit(&v));
        }
        index.set_hidden(&format!("p{}", rows - 1), true);
        let query = unit(&(0..dim).map(|_| next()).collect::<Vec<_>>());
        let exclude = format!("p{}", rows / 2);
        let got = index.nearest(&query, 50, Some(&exclude));
        let (q, q_scale) = quantize(&query);
        let mut one = index.scan(&q, q_scale, 50, index.ids.row(&exclude), 0..rows);
        one.sort_unstable_by(|a, b| b.cmp(a));
        let want: Vec<(String, f32)> = one
            .into_iter()
            .map(|Scored(score, row)| (index.ids.id(row).to_owned(), score))
            .collect();
        assert_eq!(got, want);
        for (id, score) in &got {
            assert_eq!(index.similarity(&query, id), Some(*score));
        }
        assert_eq!(index.similarity(&query, &format!("p{}", rows - 1)), None);
    }

    #[test]
    fn upsert_replaces_a_row() {
        let mut index = VectorIndex::new(2);
        index.upsert("a", &unit(&[1.0, 0.0]));
        index.upsert("a", &unit(&[0.0, 1.0]));
        assert_eq!(index.len(), 1);
        let v = index.get("a").unwrap();
        assert!(v[0].abs() < 0.01 && (v[1] - 1.0).abs() < 0.01);
    }

    #[test]
    fn every_id_finds_its_own_row_among_many() {
        let mut ids = RowIds::default();
        let names: Vec<String> = (0..20_000)
            .map(|i| format!("{}.{i:05}", 2400 + i % 7))
            .collect();
        for (row, name) in names.iter().enumerate() {
            assert_eq!(ids.push(name), row);
        }
        assert_eq!(ids.len(), names.len());
        for (row, name) in names.iter().enumerate() {
            assert_eq!(ids.row(name), Some(row));
            assert_eq!(ids.id(row), name);
        }
        assert_eq!(ids.row("2400.99999"), None);
        assert_eq!(ids.row(""), None);
    }
}
