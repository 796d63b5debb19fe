use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use super::format::CORECODER_FILE;
use super::*;
use crate::message::{FunctionCall, ToolCall};

/// A store rooted one level below a temp dir, so tests can see what lands beside it.
fn store() -> (tempfile::TempDir, SessionStore) {
    let tmp = tempfile::tempdir().unwrap();
    let store = SessionStore::new(tmp.path().join("sessions"));
    (tmp, store)
}

fn session(id: &str, cwd: &str, prompt: &str) -> Session {
    Session {
        id: id.into(),
        model: "gpt-4o".into(),
        cwd: Some(PathBuf::from(cwd)),
        messages: vec![Message::user(prompt), Message::assistant("done")],
        todos: Vec::new(),
        saved_at: None,
    }
}

/// Saves, then sets the file's mtime: saves within one clock tick would otherwise tie.
fn save_at(store: &SessionStore, s: &Session, secs: u64) {
    let path = store.save(s).unwrap();
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs);
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(when).unwrap();
}

fn put(store: &SessionStore, name: &str, bytes: &[u8]) {
    fs::create_dir_all(store.root()).unwrap();
    fs::write(store.root().join(name), bytes).unwrap();
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn saved_session_loads_back_unchanged() {
    let (_tmp, store) = store();
    let mut s = session("work", "/home/me/proj", "fix the tests");
    s.messages.push(Message::Assistant {
        content: None,
        tool_calls: vec![ToolCall {
            id: "c1".into(),
            kind: "function".into(),
            function: FunctionCall {
                name: "bash".into(),
                arguments: r#"{"command":"ls"}"#.into(),
            },
            extra: Default::default(),
        }],
    });
    s.messages.push(Message::tool("c1", "Cargo.toml\n请"));
    let path = store.save(&s).unwrap();
    assert_eq!(path, store.root().join("work.json"));
    let back = store.load("work").unwrap();
    let stamp = back.saved_at.clone().unwrap();
    assert_eq!((stamp.len(), &stamp[10..11]), (19, " "), "{stamp}");
    assert_eq!(
        Session {
            saved_at: None,
            ..back
        },
        s
    );
}

#[test]
fn corecoder_written_file_resumes_by_id() {
    let (_tmp, store) = store();
    put(
        &store,
        "session_20250131_142501_9f3a0c12.json",
        CORECODER_FILE.as_bytes(),
    );
    let s = store.load("session_20250131_142501_9f3a0c12").unwrap();
    assert_eq!(
        (s.model.as_str(), s.cwd.as_deref()),
        ("deepseek-chat", None)
    );
    assert_eq!(s.messages.len(), 4);
}

#[test]
fn save_is_atomic_replaces_and_leaves_no_temp_files() {
    let (_tmp, store) = store();
    let mut s = session("same", "/p", "first");
    store.save(&s).unwrap();
    s.messages.push(Message::user("second"));
    store.save(&s).unwrap();
    assert_eq!(names_in(store.root()), ["same.json"]);
    assert_eq!(store.load("same").unwrap().messages.len(), 3);
    // Private to the user: conversations can hold pasted secrets.
    let mode = fs::metadata(store.root().join("same.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0);
}

#[test]
fn autosave_replaces_the_same_file_and_leaves_no_temp_files() {
    let (_tmp, store) = store();
    let mut s = session("auto", "/p", "first");
    store.autosave(&s).unwrap();
    s.messages.push(Message::user("second"));
    let path = store.autosave(&s).unwrap();
    assert_eq!(path, store.root().join("auto.json"));
    assert_eq!(names_in(store.root()), ["auto.json"]);
    assert_eq!(store.load("auto").unwrap().messages.len(), 3);
}

#[test]
fn corrupt_file_is_an_error_naming_the_file() {
    let (_tmp, store) = store();
    put(&store, "broken.json", b"{ not valid json");
    let err = store.load("broken").unwrap_err();
    let path = store.root().join("broken.json");
    assert!(matches!(err, SessionError::Corrupt { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.starts_with(&format!("session file {} is corrupt: ", path.display())));
}

#[test]
fn missing_session_is_not_found() {
    let (_tmp, store) = store();
    let err = store.load("nope").unwrap_err();
    let want = format!("no session named \"nope\" in {}", store.root().display());
    assert_eq!(err.to_string(), want);
}

#[test]
fn ids_cannot_reach_outside_the_sessions_folder() {
    let (tmp, store) = store();
    // A valid session beside the store must stay unreachable.
    fs::write(tmp.path().join("outside.json"), CORECODER_FILE).unwrap();
    let deep = "../".repeat(400) + "outside";
    for raw in [
        "../outside",
        "/etc/passwd",
        "../../etc/passwd",
        "a/b",
        "a\0",
        &deep,
    ] {
        let got = store.load(raw);
        assert!(matches!(got, Err(SessionError::NotFound { .. })), "{raw:?}");
    }
    for raw in ["..", "", ".", "/", "\0", "../.."] {
        let got = store.load(raw);
        assert!(matches!(got, Err(SessionError::InvalidId(_))), "{raw:?}");
    }
    // Saving refuses any id not already in sanitised form instead of renaming it.
    let long = "a".repeat(101);
    for raw in [
        "../x",
        "/etc/passwd",
        "..",
        "",
        "a/b",
        "a\0b",
        ".hidden",
        &long,
    ] {
        let got = store.save(&session(raw, "/p", "x"));
        assert!(matches!(got, Err(SessionError::InvalidId(_))), "{raw:?}");
    }
    assert_eq!(names_in(tmp.path()), ["outside.json"]);
}

#[test]
fn save_as_renames_and_later_autosaves_follow() {
    let (_tmp, store) = store();
    let mut s = session("session_20250101_000000_00000000", "/p", "x");
    let mut claim = store.claim(&s.id).unwrap();
    store.save(&s).unwrap();
    let path = store
        .save_as(&mut s, &mut claim, "../Research Notes!")
        .unwrap();
    assert_eq!(
        (s.id.as_str(), claim.id()),
        ("Research-Notes", "Research-Notes")
    );
    assert_eq!(path, store.root().join("Research-Notes.json"));
    s.messages.push(Message::user("more"));
    store.save(&s).unwrap();
    assert_eq!(
        names_in(store.root()),
        [".Research-Notes.lock", "Research-Notes.json"]
    );
    assert_eq!(store.load("Research-Notes").unwrap().messages.len(), 3);
    let refused = store.save_as(&mut s, &mut claim, "../..");
    assert!(matches!(refused, Err(SessionError::InvalidId(_))));
    assert_eq!(
        (s.id.as_str(), claim.id()),
        ("Research-Notes", "Research-Notes")
    );
}

#[test]
fn list_is_newest_first_limited_and_skips_bad_files() {
    let (_tmp, store) = store();
    save_at(&store, &session("old", "/a", "first prompt"), 1);
    save_at(&store, &session("new", "/b", "  second\n\tprompt  "), 3);
    save_at(&store, &session("mid", "/a", "third"), 2);
    put(&store, "bad.json", b"{\"id\": \"\xff\xfe");
    put(&store, "notes.txt", b"{}");
    put(&store, ".session-abc.tmp", b"{}");
    // `load` could not open a name it would sanitise differently, so it is not offered.
    put(&store, "has space.json", CORECODER_FILE.as_bytes());
    fs::create_dir(store.root().join("dir.json")).unwrap();
    let all = store.list(20);
    let ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["new", "mid", "old"]);
    assert_eq!(all[0].preview, "second prompt");
    assert_eq!(all[0].model, "gpt-4o");
    assert_eq!(all[0].cwd.as_deref(), Some(Path::new("/b")));
    let two: Vec<String> = store.list(2).into_iter().map(|s| s.id).collect();
    assert_eq!(two, ["new", "mid"]);
}

#[test]
fn list_of_a_missing_directory_is_empty() {
    let (_tmp, store) = store();
    assert!(store.list(20).is_empty());
}

#[test]
fn latest_for_dir_picks_the_newest_session_of_that_directory() {
    let (_tmp, store) = store();
    assert_eq!(store.latest_for_dir(Path::new("/a")).unwrap(), None);
    save_at(&store, &session("a-old", "/a", "1"), 1);
    save_at(&store, &session("a-new", "/a/", "2"), 2);
    save_at(&store, &session("b-newest", "/b", "3"), 3);
    put(&store, "zz.json", b"garbage");
    put(&store, "cc.json", CORECODER_FILE.as_bytes());
    let found = store.latest_for_dir(Path::new("/a")).unwrap();
    assert_eq!(found.as_deref(), Some("a-new"));
    assert_eq!(store.latest_for_dir(Path::new("/c")).unwrap(), None);
}

#[test]
fn latest_for_dir_goes_by_headers_and_a_corrupt_newest_is_the_error() {
    let (_tmp, store) = store();
    save_at(&store, &session("mine", "/a", "1"), 1);
    let touch = |name: &str, secs: u64| {
        let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs);
        let file = fs::File::options()
            .write(true)
            .open(store.root().join(name))
            .unwrap();
        file.set_modified(when).unwrap();
    };
    // Newer, of another directory, and not JSON after its header: never read that far.
    let other = b"{\"id\": \"other\", \"model\": \"m\", \"cwd\": \"/b\", \"messages\": [\xff\0";
    put(&store, "other.json", other);
    touch("other.json", 2);
    assert_eq!(
        store.latest_for_dir(Path::new("/a")).unwrap().as_deref(),
        Some("mine")
    );
    // The newest of this directory is broken after its header: resuming names it rather than
    // silently falling back to an older conversation.
    put(
        &store,
        "broken.json",
        b"{\"model\": \"m\", \"cwd\": \"/a\", \"messages\": [{\"role\": ",
    );
    touch("broken.json", 3);
    let id = store.latest_for_dir(Path::new("/a")).unwrap().unwrap();
    assert_eq!(id, "broken");
    let err = store.open(&id).unwrap_err();
    assert!(matches!(err, SessionError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_session_another_process_holds_is_forked_not_overwritten() {
    let (_tmp, store) = store();
    let original = session("shared", "/p", "first");
    store.save(&original).unwrap();
    let owner = store.claim("shared").unwrap();

    let second = store.open("shared").unwrap();
    let Some(SessionError::InUse { id, busy }) = &second.forked_from else {
        panic!("not forked: {:?}", second.forked_from);
    };
    assert_eq!(
        (id.as_str(), busy.pid),
        ("shared", Some(std::process::id()))
    );
    let fork_id = second.claim.id().to_string();
    assert_ne!(fork_id, "shared");
    assert_eq!(second.session.id, fork_id);
    assert_eq!(second.session.messages, original.messages);
    // The copy is on disk at once, and the original is untouched.
    assert_eq!(store.load(&fork_id).unwrap().messages, original.messages);
    assert_eq!(store.load("shared").unwrap().messages, original.messages);
    let shown = second.forked_from.as_ref().unwrap().to_string();
    let want = format!(
        "session \"shared\" is open in another corecoder process (pid {})",
        std::process::id()
    );
    assert_eq!(shown, want);

    // Once the owner is gone the session is resumed in place, and the copy is free too.
    drop(owner);
    let third = store.open("shared").unwrap();
    assert!(third.forked_from.is_none());
    assert_eq!(third.claim.id(), "shared");
    drop(second);
    assert!(store.open(&fork_id).unwrap().forked_from.is_none());
}

#[test]
fn a_claim_is_released_on_drop_and_a_stale_lock_file_is_reused() {
    let (_tmp, store) = store();
    let claim = store.claim("s").unwrap();
    assert!(matches!(store.claim("s"), Err(SessionError::InUse { .. })));
    assert_eq!(names_in(store.root()), [".s.lock"]);
    drop(claim);
    assert!(
        names_in(store.root()).is_empty(),
        "the lock file is removed"
    );
    // What a `kill -9` leaves: the file, unlocked (the kernel dropped the lock with the process).
    put(&store, ".s.lock", b"999999");
    let claim = store.claim("s").unwrap();
    assert_eq!(claim.id(), "s");
    assert!(matches!(
        store.claim("../x/.."),
        Err(SessionError::InvalidId(_))
    ));
}

#[test]
fn a_new_id_is_neither_saved_nor_held() {
    let (_tmp, store) = store();
    store.save(&session("on-disk", "/p", "x")).unwrap();
    let _held = store.claim("held").unwrap();
    let mut ids = ["on-disk", "held", "free"].into_iter().map(String::from);
    let claim = store.claim_unused(|| ids.next().unwrap()).unwrap();
    assert_eq!(claim.id(), "free");
    // Every candidate taken: an error rather than sharing a file.
    let err = store.claim_unused(|| "held".into()).unwrap_err();
    assert!(
        err.to_string()
            .contains("every new session id tried was taken"),
        "{err}"
    );
    assert_ne!(store.claim_new().unwrap().id(), "free");
}

#[test]
fn save_as_refuses_a_name_another_process_holds() {
    let (_tmp, store) = store();
    let _other = store.claim("taken").unwrap();
    let mut claim = store.claim("mine").unwrap();
    let mut s = session("mine", "/p", "x");
    let err = store.save_as(&mut s, &mut claim, "taken").unwrap_err();
    assert!(matches!(err, SessionError::InUse { .. }), "{err:?}");
    assert_eq!((s.id.as_str(), claim.id()), ("mine", "mine"));
    assert!(!store.root().join("taken.json").exists());
    // A free name moves the claim: the old id is released, the new one held.
    store.save_as(&mut s, &mut claim, "named").unwrap();
    assert!(store.claim("mine").is_ok());
    assert!(matches!(
        store.claim("named"),
        Err(SessionError::InUse { .. })
    ));
}
