//! How long a step that failed transiently waits before its next attempt.

/// Delay before attempt `attempt + 1`: base·2^(attempt−1), capped, ±25% jitter.
pub fn backoff_ms(attempt: u32, base_ms: u64, cap_ms: u64) -> u64 {
    let exp = base_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(32));
    let capped = exp.min(cap_ms);
    let jitter = 0.75 + fastrand::f64() * 0.5;
    ((capped as f64) * jitter) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered() {
        for _ in 0..200 {
            let first = backoff_ms(1, 1_000, 60_000);
            assert!((750..=1_250).contains(&first), "{first}");
            let third = backoff_ms(3, 1_000, 60_000);
            assert!((3_000..=5_000).contains(&third), "{third}");
            let late = backoff_ms(40, 1_000, 60_000);
            assert!((45_000..=75_000).contains(&late), "{late}");
        }
        let spread: std::collections::HashSet<u64> =
            (0..50).map(|_| backoff_ms(2, 1_000, 60_000)).collect();
        assert!(spread.len() > 10, "jitter spreads retries apart");
    }
}
