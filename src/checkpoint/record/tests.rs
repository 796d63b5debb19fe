use super::*;

fn entry(kind: Kind) -> Entry {
    Entry {
        kind,
        mode: 0o4755,
        size: 12,
        mtime_ns: 1_700_000_000_123_456_789,
        ctime_ns: -1,
        ino: 99,
    }
}

#[test]
fn odd_names_targets_and_every_kind_round_trip() {
    let dir = Entry {
        kind: Kind::Dir,
        mode: 0o700,
        size: 0,
        mtime_ns: 0,
        ctime_ns: 0,
        ino: 0,
    };
    let odd = PathBuf::from(OsString::from_vec(b"a dir/%weird\n\tname\xff".to_vec()));
    let record = Record {
        full: false,
        taken_ns: 42,
        delta: Delta {
            upserts: vec![
                (PathBuf::from("d"), dir),
                (odd, entry(Kind::File(Content::Stored(Hash::of(b"x"))))),
                (PathBuf::from("big"), entry(Kind::File(Content::TooBig))),
                (
                    PathBuf::from("secret"),
                    entry(Kind::File(Content::Unreadable)),
                ),
                (
                    PathBuf::from("link"),
                    entry(Kind::Symlink(PathBuf::from("../a b/c%"))),
                ),
            ],
            removed: vec![PathBuf::from("gone/with space")],
        },
    };
    let bytes = encode(&record);
    assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 9);
    assert_eq!(decode(&bytes).unwrap(), record);
}

#[test]
fn truncation_tampering_and_escaping_paths_are_refused() {
    let record = Record {
        full: true,
        taken_ns: 1,
        delta: Delta {
            upserts: vec![(PathBuf::from("a"), entry(Kind::File(Content::TooBig)))],
            removed: vec![],
        },
    };
    let bytes = encode(&record);
    for cut in [0, 10, bytes.len() - 1, bytes.len() - 30] {
        assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let tampered = String::from_utf8(bytes.clone())
        .unwrap()
        .replace("+ f", "+ l");
    assert_eq!(decode(tampered.as_bytes()), Err("checksum mismatch".into()));
    for bad in ["../x", "/etc/passwd", "a/../b", "./a", "a//b", "a/"] {
        let body = format!("{MAGIC}\nfull 1\n+ d 755 {bad}\n");
        let text = format!("{body}end {}\n", Hash::of(body.as_bytes()));
        let err = decode(text.as_bytes()).unwrap_err();
        assert!(err.contains("not a plain relative path"), "{bad}: {err}");
    }
}
