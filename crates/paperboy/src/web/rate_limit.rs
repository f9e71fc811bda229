//! Fixed-window rate limits per key (an IP address, an email address), answered with 429 and
//! `Retry-After`.
//!
//! The counters live in memory, so each node limits on its own; that bounds abuse, which is all
//! a limit has to do. Old windows are dropped as the map is used.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `limit` events per key per `window`.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key`; Err carries how long until the key may try again.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return Err(self
                .window
                .saturating_sub(now.duration_since(entry.0))
                .max(Duration::from_secs(1)));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The key a per-client limit counts under: an IPv4 address, or the /64 prefix of an IPv6 one
/// (one subscriber line usually gets a whole /64, so counting single addresses would let one
/// client rotate through 2^64 keys). IPv4-mapped IPv6 addresses count as their IPv4 address.
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The limits paperboy applies.
pub struct RateLimits {
    /// Subscribe requests per client IP.
    pub subscribe_per_ip: RateLimiter,
    /// Subscribe requests per email address.
    pub subscribe_per_address: RateLimiter,
    /// Login-link requests per client IP.
    pub login_per_ip: RateLimiter,
    /// Login-link requests per email address: caps the mail one victim can be sent.
    pub login_per_address: RateLimiter,
    /// Paper submissions per member (the daily quota is a separate, stored rule).
    pub submit_per_member: RateLimiter,
    /// Upvotes and saves per member.
    pub vote_per_member: RateLimiter,
    /// New and edited comments per member.
    pub comment_per_member: RateLimiter,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            subscribe_per_ip: RateLimiter::new(10, Duration::from_secs(3600)),
            subscribe_per_address: RateLimiter::new(5, Duration::from_secs(3600)),
            login_per_ip: RateLimiter::new(20, Duration::from_secs(3600)),
            login_per_address: RateLimiter::new(5, Duration::from_secs(3600)),
            submit_per_member: RateLimiter::new(10, Duration::from_secs(600)),
            vote_per_member: RateLimiter::new(300, Duration::from_secs(60)),
            comment_per_member: RateLimiter::new(10, Duration::from_secs(60)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_with_a_wait() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        let wait = l.check("a").unwrap_err();
        assert!(wait <= Duration::from_secs(60) && wait >= Duration::from_secs(1));
        assert!(l.check("b").is_ok(), "keys are independent");
    }

    #[test]
    fn ipv6_clients_count_per_64_prefix() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
    }
}
