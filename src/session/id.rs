//! What a session id is: CoreCoder's generated ids, its sanitising rule, and the local clock
//! both its ids and its `saved_at` stamps are read from.
//!
//! CoreCoder (`corecoder/session.py`) names new sessions `session_YYYYmmdd_HHMMSS_<8 hex>` in
//! local time and stamps files `YYYY-MM-DD HH:MM:SS`, also local. We match both so a mixed
//! directory lists and sorts the same in either program. This file does not touch the disk.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use std::time::{SystemTime, UNIX_EPOCH};

use crate::clock::LocalTime;

/// CoreCoder's cap, which keeps `<id>.json` well under every file system's name limit.
pub const MAX_ID_LEN: usize = 100;

/// A new id in CoreCoder's scheme: `session_20250131_142501_9f3a0c12`. Sortable by time to the
/// second; the random suffix keeps two sessions started in the same second apart.
pub fn new_id() -> String {
    format!("session_{}_{}", LocalTime::now().id_stamp(), random_hex8())
}

/// CoreCoder's rule, step for step: trim, treat `\` as `/` and keep only the last path
/// component, turn each run of characters outside `[A-Za-z0-9._-]` into one `-`, strip `.`,
/// `-` and `_` from both ends, cap at 100 characters and strip again. `None` where CoreCoder
/// would fall back to a fresh id (nothing usable was left); callers decide what that means.
///
/// The result has no separator and never starts with `.`, so it cannot leave the directory.
pub fn sanitize_id(raw: &str) -> Option<String> {
    let last = raw.trim().rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name = String::with_capacity(last.len());
    let mut in_run = false;
    for c in last.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            name.push(c);
            in_run = false;
        } else if !in_run {
            name.push('-');
            in_run = true;
        }
    }
    let edge = |c: char| matches!(c, '.' | '-' | '_');
    let mut name = name.trim_matches(edge);
    // Everything left is ASCII, so slicing by bytes is slicing by characters as Python does.
    if name.len() > MAX_ID_LEN {
        name = name[..MAX_ID_LEN].trim_matches(edge);
    }
    (!name.is_empty()).then(|| name.to_string())
}

/// 32 random bits as CoreCoder's `uuid4().hex[:8]`. `RandomState` is seeded from the OS and
/// re-keyed on every call, which is all the uniqueness a file name needs without a new crate.
fn random_hex8() -> String {
    let mut h = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_id_matches_corecoder_rule() {
        let long = "a".repeat(500);
        let cut_on_dash = format!("{}-{}", "a".repeat(99), "b".repeat(10));
        let table: &[(&str, Option<&str>)] = &[
            ("../Research Notes!", Some("Research-Notes")),
            ("../../etc/passwd", Some("passwd")),
            ("/etc/shadow", Some("shadow")),
            (r"..\..\secret", Some("secret")),
            ("a/b", Some("b")),
            ("a\0b", Some("a-b")),
            ("  my session  2 ", Some("my-session-2")),
            ("v1.2_final", Some("v1.2_final")),
            ("._-x-_.", Some("x")),
            ("请帮我 fix bug", Some("fix-bug")),
            (
                "session_20250131_142501_9f3a0c12",
                Some("session_20250131_142501_9f3a0c12"),
            ),
            ("..", None),
            (".", None),
            ("", None),
            ("   ", None),
            ("foo/", None),
            ("日本語", None),
            ("\0", None),
            (&long, Some(&long[..100])),
            (&cut_on_dash, Some(&cut_on_dash[..99])),
        ];
        for (raw, want) in table {
            assert_eq!(sanitize_id(raw).as_deref(), *want, "sanitize_id({raw:?})");
        }
    }

    #[test]
    fn new_ids_follow_corecoder_scheme_and_do_not_collide() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        // session_YYYYmmdd_HHMMSS_xxxxxxxx
        let parts: Vec<&str> = a.split('_').collect();
        assert_eq!(parts.len(), 4, "{a}");
        assert_eq!(parts[0], "session");
        assert!(parts[1].len() == 8 && parts[1].bytes().all(|b| b.is_ascii_digit()));
        assert!(parts[2].len() == 6 && parts[2].bytes().all(|b| b.is_ascii_digit()));
        assert!(parts[3].len() == 8 && parts[3].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(sanitize_id(&a).as_deref(), Some(a.as_str()));
    }

    #[test]
    fn time_stamps_use_corecoder_strftime_formats() {
        // 2024-02-29T13:05:09Z: a leap day checks the calendar arithmetic.
        let t = LocalTime::utc(1_709_211_909);
        assert_eq!(t.saved_at(), "2024-02-29 13:05:09");
        assert_eq!(t.id_stamp(), "20240229_130509");
        assert_eq!(LocalTime::utc(0).saved_at(), "1970-01-01 00:00:00");
    }

    #[test]
    fn local_now_is_a_plausible_saved_at() {
        let s = LocalTime::now().saved_at();
        assert_eq!(s.len(), 19, "{s}");
        assert_eq!(&s[4..5], "-");
        assert_eq!(&s[10..11], " ");
        assert_eq!(&s[13..14], ":");
    }
}
