//! Who holds a job's lease: this process, named so that another process on the same machine can
//! tell that the holder is gone.
//!
//! A lease expires on its own, but a `kill -9`ed command would otherwise block the next one for
//! the rest of its lease. On Linux a holder is `<boot id>:<pid>`; a process that finds a lease
//! held under its own boot id by a pid that no longer exists may end it at once. Elsewhere, and
//! for holders on other machines, only expiry frees a lease.

use std::path::Path;
use std::sync::OnceLock;

/// This process's name for `locked_by`.
pub fn this_process() -> String {
    format!(
        "{}:{}",
        boot_id().unwrap_or("unknown-boot"),
        std::process::id()
    )
}

/// True when `holder` names a process on this machine, since its last boot, that has exited.
pub fn is_gone(holder: &str) -> bool {
    let Some(boot) = boot_id() else { return false };
    let Some((holder_boot, pid)) = holder.rsplit_once(':') else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    holder_boot == boot && pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
}

fn boot_id() -> Option<&'static str> {
    static BOOT_ID: OnceLock<Option<String>> = OnceLock::new();
    BOOT_ID
        .get_or_init(|| {
            std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        })
        .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_holder_is_not_gone_and_strangers_are_never_judged() {
        assert!(!is_gone(&this_process()));
        assert!(!is_gone("some-other-machine:1"));
        assert!(!is_gone("garbage"));
        if let Some(boot) = boot_id() {
            // Pids are below 2^22 on Linux.
            assert!(is_gone(&format!("{boot}:4294967295")));
        }
    }
}
