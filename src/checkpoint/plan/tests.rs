use std::path::PathBuf;

use super::*;
use crate::checkpoint::Hash;

fn file(content: &[u8], mode: u32) -> Entry {
    Entry {
        kind: Kind::File(Content::Stored(Hash::of(content))),
        mode,
        size: content.len() as u64,
        mtime_ns: 1,
        ctime_ns: 1,
        ino: 1,
    }
}

fn dir() -> Entry {
    Entry {
        kind: Kind::Dir,
        mode: 0o755,
        size: 0,
        mtime_ns: 0,
        ctime_ns: 0,
        ino: 0,
    }
}

fn snap(items: &[(&str, Entry)]) -> Snapshot {
    Snapshot {
        entries: items
            .iter()
            .map(|(p, e)| (PathBuf::from(p), e.clone()))
            .collect(),
        taken_ns: 0,
    }
}

fn kinds(plan: &Plan) -> Vec<(String, ChangeKind, bool)> {
    plan.changes
        .iter()
        .map(|c| (c.path.display().to_string(), c.kind, c.conflict))
        .collect()
}

#[test]
fn every_kind_of_change_is_planned_and_untouched_paths_are_not() {
    let mut big = file(b"big", 0o644);
    big.kind = Kind::File(Content::TooBig);
    let mut big_now = big.clone();
    big_now.size = 9;
    let target = snap(&[
        ("same", file(b"s", 0o644)),
        ("edited", file(b"old", 0o644)),
        ("deleted", file(b"d", 0o600)),
        ("chmod", file(b"c", 0o755)),
        ("kind", file(b"k", 0o644)),
        ("big", big),
    ]);
    let current = snap(&[
        ("same", file(b"s", 0o644)),
        ("edited", file(b"new", 0o644)),
        ("chmod", file(b"c", 0o644)),
        ("kind", dir()),
        ("created", file(b"n", 0o644)),
        ("newdir", dir()),
        ("big", big_now),
    ]);
    let plan = plan_restore(&target, &current, &current);
    use ChangeKind::*;
    let expect = [
        ("big", NotRestorable, false),
        ("chmod", Mode, false),
        ("created", Created, false),
        ("deleted", Deleted, false),
        ("edited", Modified, false),
        ("kind", TypeChanged, false),
        ("newdir", Created, false),
    ];
    let expect: Vec<_> = expect
        .iter()
        .map(|(p, k, c)| (p.to_string(), *k, *c))
        .collect();
    assert_eq!(kinds(&plan), expect);
    assert_eq!(plan.not_restorable().count(), 1);
}

#[test]
fn a_path_changed_after_the_turn_ended_is_a_conflict() {
    let target = snap(&[("a", file(b"1", 0o644)), ("b", file(b"1", 0o644))]);
    let last = snap(&[("a", file(b"2", 0o644)), ("b", file(b"2", 0o644))]);
    // The user then edited b and created c; a is as the turn left it.
    let current = snap(&[
        ("a", file(b"2", 0o644)),
        ("b", file(b"3", 0o644)),
        ("c", file(b"x", 0o644)),
    ]);
    let plan = plan_restore(&target, &current, &last);
    assert_eq!(
        kinds(&plan),
        [
            ("a".to_string(), ChangeKind::Modified, false),
            ("b".to_string(), ChangeKind::Modified, true),
            ("c".to_string(), ChangeKind::Created, true),
        ]
    );
    assert_eq!(plan.conflicts().count(), 2);
}
