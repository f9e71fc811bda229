//! The in-memory vector index: every paper's embedding as an i8 row, scanned exactly.
//!
//! Vectors are unit length, so cosine similarity is a dot product. Each row is quantised to i8
//! with its own scale (`max |x| / 127`): a quarter of f32's memory and bandwidth, which is what an
//! exact scan is bound by. The query is quantised the same way and the dot product is computed in
//! i32. BENCHMARKS.md compares this scan with f32 and with HNSW.

use std::collections::HashMap;

/// Embeddings of one model, one row per paper.
#[derive(Debug, Default)]
pub struct VectorIndex {
    dim: usize,
    ids: Vec<String>,
    rows: HashMap<String, usize>,
    data: Vec<i8>,
    scales: Vec<f32>,
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
        self.ids.is_empty()
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
        match self.rows.get(id) {
            Some(&row) => {
                self.data[row * self.dim..(row + 1) * self.dim].copy_from_slice(&q);
                self.scales[row] = scale;
            }
            None => {
                self.rows.insert(id.to_owned(), self.ids.len());
                self.ids.push(id.to_owned());
                self.data.extend_from_slice(&q);
                self.scales.push(scale);
            }
        }
    }

    /// The stored (dequantised) vector of `id`.
    pub fn get(&self, id: &str) -> Option<Vec<f32>> {
        let row = *self.rows.get(id)?;
        let scale = self.scales[row];
        Some(
            self.data[row * self.dim..(row + 1) * self.dim]
                .iter()
                .map(|&v| f32::from(v) * scale)
                .collect(),
        )
    }

    /// The `k` rows most similar to `query` (cosine, best first), skipping `exclude`.
    pub fn nearest(&self, query: &[f32], k: usize, exclude: Option<&str>) -> Vec<(String, f32)> {
        if query.len() != self.dim || self.is_empty() || k == 0 {
            return Vec::new();
        }
        let (q, q_scale) = quantize(query);
        let mut scored: Vec<(f32, u32)> = self
            .data
            .chunks_exact(self.dim)
            .zip(&self.scales)
            .enumerate()
            .map(|(row, (r, &s))| (dot_i8(&q, r) as f32 * s * q_scale, row as u32))
            .collect();
        let skip = exclude.and_then(|id| self.rows.get(id)).copied();
        if let Some(row) = skip {
            scored[row].0 = f32::NEG_INFINITY;
        }
        let k = k.min(scored.len());
        let by_score = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if k < scored.len() {
            scored.select_nth_unstable_by(k, by_score);
            scored.truncate(k);
        }
        scored.sort_unstable_by(by_score);
        scored
            .into_iter()
            .filter(|(s, _)| s.is_finite())
            .map(|(s, row)| (self.ids[row as usize].clone(), s))
            .collect()
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

/// The i8 dot product; written over fixed chunks so the compiler vectorises it.
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
    fn upsert_replaces_a_row() {
        let mut index = VectorIndex::new(2);
        index.upsert("a", &unit(&[1.0, 0.0]));
        index.upsert("a", &unit(&[0.0, 1.0]));
        assert_eq!(index.len(), 1);
        let v = index.get("a").unwrap();
        assert!(v[0].abs() < 0.01 && (v[1] - 1.0).abs() < 0.01);
    }
}
