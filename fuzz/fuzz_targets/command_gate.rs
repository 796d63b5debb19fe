//! The dangerous-command gate on arbitrary text. Invariants: it never panics, and it returns
//! in bounded time and memory (enforced by libFuzzer's `-timeout` and `-rss_limit_mb`).

#![no_main]

use corecoder::policy::command_safety::{Verdict, check};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Commands reach the gate as `String`s parsed from JSON, so only UTF-8 matters.
    let Ok(command) = std::str::from_utf8(data) else {
        return;
    };
    if let Verdict::Blocked(reason) = check(command) {
        // Every refusal must tell the model something.
        assert!(!reason.trim().is_empty(), "empty reason for {command:?}");
    }
});
