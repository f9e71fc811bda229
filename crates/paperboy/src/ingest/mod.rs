//! Imports: reading papers from files into the store, streaming, idempotent and resumable.
//!
//! The reader runs on a blocking thread and sends batches of parsed records over a bounded
//! channel; the async side merges each batch into the store in one transaction. A killed import
//! therefore leaves whole batches behind, and running it again merges the same records into an
//! unchanged store (see `domain::merge`), which is how it resumes.

pub mod arxiv;
mod arxiv_snapshot;
pub mod fetch;
pub mod harvest;
pub mod hf_daily;
pub mod jsonl;
pub mod pyrepr;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use flate2::read::MultiGzDecoder;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use crate::domain::merge::Observed;
use crate::store::{Store, WriteCounts};

/// Records merged per transaction.
const BATCH: usize = 1000;

/// Which input format to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Decide per file from its first bytes.
    #[default]
    Auto,
    /// Paperboy JSONL (see [`jsonl`]).
    Jsonl,
    /// Raw Hugging Face `daily_papers` responses (see [`hf_daily`]).
    HfDaily,
    /// arXiv's bulk metadata snapshot, resumable after a kill (see `arxiv_snapshot`).
    ArxivSnapshot,
}

/// A record that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    /// 1-based line where the record starts; 0 when the problem concerns the whole file.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub files: usize,
    pub counts: WriteCounts,
    /// Bad records that were reported and skipped.
    pub skipped: u64,
    /// Files that could not be read to the end (unknown format, corrupt or truncated).
    pub failed_files: u64,
}

enum Message {
    Batch(Vec<Observed>),
    Problem(Problem),
    FileFailed(Problem),
}

/// Imports every file in `paths` (directories are walked, sorted by name). Each skipped record
/// or failed file is passed to `on_problem` as it happens.
pub async fn import_paths(
    store: &Store,
    paths: &[PathBuf],
    format: Format,
    progress: bool,
    mut on_problem: impl FnMut(&Problem),
) -> anyhow::Result<ImportReport> {
    let files = expand_paths(paths)?;
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    let bar = if progress {
        let bar = ProgressBar::new(total_bytes);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})",
            )
            .expect("template is valid"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut report = ImportReport {
        files: files.len(),
        ..Default::default()
    };
    if format == Format::ArxivSnapshot {
        for file in &files {
            arxiv_snapshot::import_file(store, file, &bar, &mut on_problem, &mut report).await?;
        }
        bar.finish_and_clear();
        return Ok(report);
    }
    let (tx, mut rx) = mpsc::channel::<Message>(4);
    let reader_bar = bar.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let mut sender = BatchSender {
            tx,
            batch: Vec::with_capacity(BATCH),
        };
        for file in &files {
            if let Err(problem) = read_file(file, format, &mut sender, &reader_bar)
                && sender
                    .tx
                    .blocking_send(Message::FileFailed(problem))
                    .is_err()
            {
                return;
            }
        }
        sender.flush();
    });
    while let Some(message) = rx.recv().await {
        match message {
            Message::Batch(batch) => {
                let counts = store
                    .merge_observed(batch)
                    .await
                    .context("writing an import batch")?;
                report.counts.add(counts);
            }
            Message::Problem(problem) => {
                report.skipped += 1;
                bar.suspend(|| on_problem(&problem));
            }
            Message::FileFailed(problem) => {
                report.failed_files += 1;
                bar.suspend(|| on_problem(&problem));
            }
        }
    }
    reader.await.context("the import reader thread failed")?;
    bar.finish_and_clear();
    Ok(report)
}

struct BatchSender {
    tx: mpsc::Sender<Message>,
    batch: Vec<Observed>,
}

impl BatchSender {
    fn record(&mut self, path: &Path, line: usize, result: Result<Observed, String>) {
        match result {
            Ok(observed) => {
                self.batch.push(observed);
                if self.batch.len() >= BATCH {
                    self.flush();
                }
            }
            Err(message) => {
                let problem = Problem {
                    path: path.to_owned(),
                    line,
                    message,
                };
                let _ = self.tx.blocking_send(Message::Problem(problem));
            }
        }
    }

    fn flush(&mut self) {
        if !self.batch.is_empty() {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            let _ = self.tx.blocking_send(Message::Batch(batch));
        }
    }
}

/// Reads one file into the sender; an Err means the file could not be read to its end.
/// A record's day as an import takes it: not before arXiv began (1991) and not after tomorrow
/// (a day of slack for time zones), so that one bad record can neither put a paper on the feed
/// of the year 2999, which would then head the front page, nor date a paper before arXiv.
pub fn plausible_day(day: chrono::NaiveDate) -> Result<chrono::NaiveDate, String> {
    let first = chrono::NaiveDate::from_ymd_opt(1991, 1, 1).expect("a valid date");
    let last = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    if day < first {
        Err(format!("{day} is before arXiv began (1991)"))
    } else if day > last {
        Err(format!("{day} is in the future"))
    } else {
        Ok(day)
    }
}

fn read_file(
    path: &Path,
    format: Format,
    sender: &mut BatchSender,
    bar: &ProgressBar,
) -> Result<(), Problem> {
    let fail = |line: usize, message: String| Problem {
        path: path.to_owned(),
        line,
        message,
    };
    let file = File::open(path).map_err(|e| fail(0, format!("cannot open: {e}")))?;
    let mut raw = BufReader::new(bar.wrap_read(file));
    let gzipped = raw
        .fill_buf()
        .map(|b| b.starts_with(&[0x1f, 0x8b]))
        .unwrap_or(false);
    let stream: Box<dyn Read> = if gzipped {
        Box::new(MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let mut head = reader
        .fill_buf()
        .map_err(|e| fail(0, format!("cannot read: {}", describe_io(&e))))?;
    // A UTF-8 byte-order mark, as some Windows editors write, is not part of the first record.
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
        head = reader
            .fill_buf()
            .map_err(|e| fail(0, format!("cannot read: {}", describe_io(&e))))?;
    }
    let format = match format {
        Format::Auto => detect(head).ok_or_else(|| {
            fail(
                0,
                "unknown format: expected paperboy JSONL or a Hugging Face daily_papers response \
                 (see --format)"
                    .into(),
            )
        })?,
        other => other,
    };
    match format {
        Format::HfDaily => {
            let mut bytes = Vec::new();
            (&mut reader)
                .take(MAX_HF_FILE + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| fail(0, format!("cannot read: {}", describe_io(&e))))?;
            if bytes.len() as u64 > MAX_HF_FILE {
                return Err(fail(
                    0,
                    format!(
                        "larger than {} MiB: not one day's daily_papers response",
                        MAX_HF_FILE >> 20
                    ),
                ));
            }
            let text = String::from_utf8(bytes).map_err(|e| fail(0, format!("not UTF-8: {e}")))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let items = hf_daily::parse_file(&text, hf_daily::date_from_file_name(&name))
                .map_err(|message| fail(0, message))?;
            for item in items {
                sender.record(path, item.line, item.result);
            }
            Ok(())
        }
        Format::ArxivSnapshot => Err(fail(
            0,
            "this is the arXiv metadata snapshot: use --format arxiv-snapshot, which can \
             resume after an interruption"
                .into(),
        )),
        Format::Jsonl | Format::Auto => {
            let mut line_no = 0usize;
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let read_so_far = line_no;
                let cannot_read = |e: std::io::Error| {
                    fail(
                        read_so_far + 1,
                        format!("cannot read past line {read_so_far}: {}", describe_io(&e)),
                    )
                };
                let n = (&mut reader)
                    .take(MAX_LINE + 1)
                    .read_until(b'\n', &mut buf)
                    .map_err(cannot_read)?;
                if n == 0 {
                    return Ok(());
                }
                line_no += 1;
                if n as u64 > MAX_LINE {
                    if buf.last() != Some(&b'\n') {
                        skip_line(&mut reader).map_err(cannot_read)?;
                    }
                    let message = format!("longer than {} MiB: not one paper", MAX_LINE >> 20);
                    sender.record(path, line_no, Err(message));
                    continue;
                }
                let result = match std::str::from_utf8(&buf) {
                    Ok(text) if text.trim().is_empty() => continue,
                    Ok(text) => jsonl::parse_line(text, line_no as i64),
                    Err(e) => Err(format!("not UTF-8: {e}")),
                };
                sender.record(path, line_no, result);
            }
        }
    }
}

/// The longest JSONL line read: a paper's record is a few kilobytes, so a longer line is
/// refused instead of held in memory whole.
const MAX_LINE: u64 = 16 << 20;
/// The largest daily_papers file read (one day's response is well under a megabyte).
const MAX_HF_FILE: u64 = 64 << 20;

/// Reads past the end of the current line without keeping it.
fn skip_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(at) = buf.iter().position(|&b| b == b'\n') {
            reader.consume(at + 1);
            return Ok(());
        }
        let len = buf.len();
        reader.consume(len);
    }
}

fn describe_io(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "the file ends early (truncated or corrupt .gz?)".to_owned()
    } else {
        e.to_string()
    }
}

/// Guesses the format from the first bytes of a (decompressed) file.
fn detect(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(&head[..head.len().min(64 * 1024)]);
    if text.trim().is_empty() {
        // An empty file holds no records in any format: read it as JSONL, which imports none.
        return Some(Format::Jsonl);
    }
    if hf_daily::looks_like(&text) {
        return Some(Format::HfDaily);
    }
    let first_line = text.trim_start().lines().next()?;
    let value: serde_json::Value = serde_json::from_str(first_line).ok()?;
    if value.get("authors_parsed").is_some() || value.get("update_date").is_some() {
        return Some(Format::ArxivSnapshot);
    }
    value.is_object().then_some(Format::Jsonl)
}

/// Expands directories into their files (recursively, sorted by path; hidden files skipped).
fn expand_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = Vec::new();
            walk(path, &mut entries)?;
            entries.sort();
            if entries.is_empty() {
                bail!("{}: directory has no files to import", path.display());
            }
            out.extend(entries);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))?
    {
        let entry = entry.with_context(|| format!("{}: cannot list", dir.display()))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_from_content() {
        assert_eq!(detect(b"  [{\"paper\": {}}]"), Some(Format::HfDaily));
        assert_eq!(
            detect(b"{\n  \"status\": \"success\",\n \"data\": []}"),
            Some(Format::HfDaily)
        );
        assert_eq!(
            detect(b"{\"id\": \"2405.15738\", \"title\": \"x\"}\n{\"id\""),
            Some(Format::Jsonl)
        );
        assert_eq!(
            detect(b"{\"id\": \"0704.0001\", \"title\": \"x\", \"update_date\": \"2008-11-13\"}\n"),
            Some(Format::ArxivSnapshot)
        );
        assert_eq!(detect(b"Call me Ishmael."), None);
        assert_eq!(
            detect(b""),
            Some(Format::Jsonl),
            "an empty file imports nothing"
        );
        assert_eq!(detect(b" \n\n"), Some(Format::Jsonl));
    }
}
