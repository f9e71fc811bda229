//! `paperboy import --format arxiv-snapshot FILE`: arXiv's bulk metadata snapshot (Kaggle's
//! `arxiv-metadata-oai-snapshot.json`, about 2.7 million lines), resumable after a kill.
//!
//! A reader thread parses lines into batches and sends each with the byte offset and line number
//! after it; the store commits a batch's papers and that position in one transaction. Memory
//! stays bounded (two batches in flight), and a killed import starts again at the first line it
//! had not committed instead of at the top of a 4 GB file. A finished import forgets its position,
//! so importing the file again reads it all again (and, merging, changes nothing).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::Context as _;
use chrono::DateTime;
use flate2::read::MultiGzDecoder;
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::arxiv::{as_of_day, observed_from_metadata};
use super::{ImportReport, Problem, describe_io};
use crate::domain::merge::Observed;
use crate::store::Store;
use crate::store::import::ImportCheckpoint;

/// Lines per transaction: large enough that commits (each an fsync) are rare, small enough that
/// a kill loses little work.
const BATCH: usize = 5000;

/// How much of the file's head goes into its fingerprint.
const FINGERPRINT_BYTES: u64 = 64 * 1024;

enum Message {
    Batch {
        records: Vec<Observed>,
        byte_offset: u64,
        line: u64,
    },
    Problem(Problem),
    Failed(Problem),
}

/// Imports one snapshot file into `store`, adding to `report`. Unreadable lines are reported
/// through `on_problem` and skipped; an error means the store could not be written.
pub(super) async fn import_file(
    store: &Store,
    path: &Path,
    bar: &ProgressBar,
    on_problem: &mut impl FnMut(&Problem),
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    let fail = |message: String| Problem {
        path: path.to_owned(),
        line: 0,
        message,
    };
    let source = match std::fs::canonicalize(path) {
        Ok(p) => p.display().to_string(),
        Err(e) => {
            report.failed_files += 1;
            bar.suspend(|| on_problem(&fail(format!("cannot open: {e}"))));
            return Ok(());
        }
    };
    let fingerprint = match fingerprint(path) {
        Ok(f) => f,
        Err(e) => {
            report.failed_files += 1;
            bar.suspend(|| on_problem(&fail(format!("cannot read: {}", describe_io(&e)))));
            return Ok(());
        }
    };
    let start = match store.import_checkpoint(&source).await? {
        Some(cp) if cp.fingerprint == fingerprint => {
            tracing::info!(file = %path.display(), line = cp.line, "resuming the import after line {}", cp.line);
            (cp.byte_offset, cp.line)
        }
        _ => (0, 0),
    };
    let (tx, mut rx) = mpsc::channel::<Message>(2);
    let reader_path = path.to_owned();
    let reader_bar = bar.clone();
    let reader = tokio::task::spawn_blocking(move || {
        if let Err(problem) = read_lines(&reader_path, start, &tx, &reader_bar) {
            let _ = tx.blocking_send(Message::Failed(problem));
        }
    });
    let mut failed = false;
    while let Some(message) = rx.recv().await {
        match message {
            Message::Batch {
                records,
                byte_offset,
                line,
            } => {
                let checkpoint = ImportCheckpoint {
                    source: source.clone(),
                    fingerprint: fingerprint.clone(),
                    byte_offset,
                    line,
                };
                let counts = store
                    .save_import_batch(records, &checkpoint)
                    .await
                    .with_context(|| format!("writing a batch ending at line {line}"))?;
                report.counts.add(counts);
            }
            Message::Problem(problem) => {
                report.skipped += 1;
                bar.suspend(|| on_problem(&problem));
            }
            Message::Failed(problem) => {
                failed = true;
                report.failed_files += 1;
                bar.suspend(|| on_problem(&problem));
            }
        }
    }
    reader.await.context("the import reader thread failed")?;
    if !failed {
        store.clear_import_checkpoint(&source).await?;
    }
    Ok(())
}

/// Reads lines from `start` (byte offset, lines before it) and sends them in batches.
fn read_lines(
    path: &Path,
    (offset, lines_before): (u64, u64),
    tx: &mpsc::Sender<Message>,
    bar: &ProgressBar,
) -> Result<(), Problem> {
    let fail = |line: u64, message: String| Problem {
        path: path.to_owned(),
        line: usize::try_from(line).unwrap_or(usize::MAX),
        message,
    };
    let mut file = File::open(path).map_err(|e| fail(0, format!("cannot open: {e}")))?;
    let gzipped = {
        let mut magic = [0u8; 2];
        let n = file
            .read(&mut magic)
            .map_err(|e| fail(0, format!("cannot read: {e}")))?;
        n == 2 && magic == [0x1f, 0x8b]
    };
    let mut reader: Box<dyn BufRead> = if gzipped {
        file.seek(SeekFrom::Start(0))
            .map_err(|e| fail(0, format!("cannot read: {e}")))?;
        let mut decoded = BufReader::with_capacity(
            1 << 20,
            MultiGzDecoder::new(BufReader::new(bar.wrap_read(file))),
        );
        // Offsets count decompressed bytes, so resuming a .gz means decompressing up to it.
        std::io::copy(&mut (&mut decoded).take(offset), &mut std::io::sink())
            .map_err(|e| fail(lines_before, format!("cannot read: {}", describe_io(&e))))?;
        Box::new(decoded)
    } else {
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| fail(lines_before, format!("cannot seek to byte {offset}: {e}")))?;
        bar.inc(offset);
        Box::new(BufReader::with_capacity(1 << 20, bar.wrap_read(file)))
    };
    let mut byte_offset = offset;
    let mut line = lines_before;
    let mut batch = Vec::with_capacity(BATCH);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| {
            fail(
                line + 1,
                format!("cannot read past line {line}: {}", describe_io(&e)),
            )
        })?;
        if n == 0 {
            break;
        }
        byte_offset += n as u64;
        line += 1;
        let result = match std::str::from_utf8(&buf) {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => parse(text),
            Err(e) => Err(format!("not UTF-8: {e}")),
        };
        match result {
            Ok(observed) => batch.push(observed),
            Err(message) => {
                if tx
                    .blocking_send(Message::Problem(fail(line, message)))
                    .is_err()
                {
                    return Ok(());
                }
            }
        }
        if batch.len() >= BATCH {
            let records = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            let sent = tx.blocking_send(Message::Batch {
                records,
                byte_offset,
                line,
            });
            if sent.is_err() {
                return Ok(());
            }
        }
    }
    let _ = tx.blocking_send(Message::Batch {
        records: batch,
        byte_offset,
        line,
    });
    Ok(())
}

/// One line as an observation, as of the day arXiv last changed the record.
fn parse(text: &str) -> Result<Observed, String> {
    let record = arxiv::snapshot::parse_line(text)?;
    let as_of = record
        .update_date
        .map(as_of_day)
        .or_else(|| record.metadata.versions.iter().map(|v| v.submitted).max())
        .unwrap_or(DateTime::UNIX_EPOCH);
    Ok(observed_from_metadata(record.metadata, as_of))
}

/// The file's size and a hash of its head: cheap, and enough to notice a new snapshot at the
/// same path (which would make a stored byte offset meaningless).
fn fingerprint(path: &Path) -> std::io::Result<String> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = Vec::new();
    file.take(FINGERPRINT_BYTES).read_to_end(&mut head)?;
    let digest = Sha256::digest(&head);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{size}:{hex}"))
}
