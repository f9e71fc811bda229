//! Named, timed steps: a header before, the elapsed time after, the name on failure.

use std::time::Instant;

use anyhow::Result;

/// Runs `body` as the step `name`. Headers go to stderr so that stdout stays clean for output
/// meant to be captured (`eval "$(cargo xtask test-env)"`).
pub fn step<T>(name: &str, body: impl FnOnce() -> Result<T>) -> Result<T> {
    eprintln!("\n==> {name}");
    let start = Instant::now();
    let result = body();
    let secs = start.elapsed().as_secs_f64();
    match result {
        Ok(value) => {
            eprintln!("<== {name}: ok ({secs:.1}s)");
            Ok(value)
        }
        Err(error) => {
            eprintln!("<== {name}: FAILED ({secs:.1}s)");
            Err(error.context(format!("step `{name}` failed")))
        }
    }
}
