//! Running `wrk` and reading its report: requests per second, p99 latency, errors.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

/// What one `wrk --latency` run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    pub requests_per_sec: f64,
    pub p99: Duration,
    /// Connect, read, write and timeout errors together.
    pub socket_errors: u64,
    pub non_2xx: u64,
}

/// Runs `wrk -t{threads} -c{connections} -d{secs}s --latency url` and parses its report.
pub fn run(
    wrk: &Path,
    threads: u32,
    connections: u32,
    duration: Duration,
    url: &str,
) -> Result<Report> {
    let out = Command::new(wrk)
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs()))
        .arg("--latency")
        .arg(url)
        .output()
        .with_context(|| format!("starting {}", wrk.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk exited with {}: {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse(&text).with_context(|| format!("reading wrk's report:\n{text}"))
}

/// Reads the lines of wrk's report that we need.
pub fn parse(text: &str) -> Result<Report> {
    let mut requests_per_sec = None;
    let mut p99 = None;
    let mut socket_errors = 0;
    let mut non_2xx = 0;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            requests_per_sec = Some(rest.trim().parse::<f64>().context("Requests/sec")?);
        } else if let Some(rest) = line.strip_prefix("99%") {
            p99 = Some(duration(rest.trim())?);
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            for part in rest.split(',') {
                let count = part.split_whitespace().nth(1).unwrap_or("0");
                socket_errors += count.parse::<u64>().context("Socket errors")?;
            }
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = rest.trim().parse().context("Non-2xx or 3xx responses")?;
        }
    }
    Ok(Report {
        requests_per_sec: requests_per_sec.context("no Requests/sec line")?,
        p99: p99.context("no 99% line (was --latency passed?)")?,
        socket_errors,
        non_2xx,
    })
}

/// wrk's durations: `812.00us`, `1.23ms`, `2.01s`, `1.50m`.
fn duration(text: &str) -> Result<Duration> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .with_context(|| format!("no unit in {text:?}"))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .with_context(|| format!("bad duration {text:?}"))?;
    let secs = match unit {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => bail!("unknown unit {other:?} in {text:?}"),
    };
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "\
Running 15s test @ http://127.0.0.1:40321/papers/date/2026-08-21
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.10ms    2.52ms  48.37ms   79.84%
    Req/Sec     3.97k   328.53     4.62k    72.33%
  Latency Distribution
     50%    7.63ms
     75%    9.06ms
     90%   11.02ms
     99%   17.51ms
  118574 requests in 15.01s, 2.85GB read
  Socket errors: connect 0, read 0, write 0, timeout 3
  Non-2xx or 3xx responses: 2
Requests/sec:   7899.73
Transfer/sec:    194.51MB
";

    #[test]
    fn reads_a_wrk_report() {
        let report = parse(REPORT).unwrap();
        assert!((report.requests_per_sec - 7899.73).abs() < 1e-9);
        assert_eq!(report.p99, Duration::from_micros(17_510));
        assert_eq!(report.socket_errors, 3);
        assert_eq!(report.non_2xx, 2);
    }

    #[test]
    fn reads_wrk_durations() {
        assert_eq!(duration("812.00us").unwrap(), Duration::from_micros(812));
        assert_eq!(duration("2.00s").unwrap(), Duration::from_secs(2));
        assert_eq!(duration("1.50m").unwrap(), Duration::from_secs(90));
        assert!(duration("12").is_err());
        assert!(parse("Requests/sec: 1.0\n").is_err());
    }
}
