use super::*;

#[test]
fn the_mount_plan_keeps_only_outermost_roots() {
    let roots = [
        PathBuf::from("/a"),
        PathBuf::from("/a/b"),
        PathBuf::from("/c"),
    ];
    let mut notes = Vec::new();
    let plan = mount_plan(&roots, &[], &mut notes).unwrap();
    assert_eq!(plan.roots, vec![c"/a".to_owned(), c"/c".to_owned()]);
    assert!(notes.is_empty());
}

#[test]
fn a_writable_root_at_slash_means_no_mount_plan_and_says_so() {
    let mut notes = Vec::new();
    assert!(mount_plan(&[PathBuf::from("/")], &[], &mut notes).is_none());
    assert_eq!(notes.len(), 1);
}

#[test]
fn missing_roots_are_skipped_with_a_note_and_duplicates_merged() {
    let dir = tempfile::tempdir().unwrap();
    let roots = [
        dir.path().to_path_buf(),
        dir.path().join("."),
        dir.path().join("missing"),
    ];
    let mut notes = Vec::new();
    let got = canonical_roots(&roots, &mut notes);
    assert_eq!(got, vec![dir.path().canonicalize().unwrap()]);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("does not exist"), "{notes:?}");
}

#[test]
fn only_existing_sockets_count_as_daemon_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("d.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, "").unwrap();
    let got = found_sockets(&[sock.clone(), file, dir.path().join("none"), sock.clone()]);
    assert_eq!(got, vec![sock.canonicalize().unwrap()]);
}

#[test]
fn danger_full_access_prepares_nothing() {
    let env = |_: &str| None;
    let policy = SandboxPolicy::new(
        SandboxMode::DangerFullAccess,
        Path::new("/"),
        None,
        &env,
        &[],
        &[],
    );
    let prepared = Prepared::new(&policy).unwrap();
    assert_eq!(prepared.tier, Tier::Unsandboxed);
    assert!(prepared.plan.is_none());
    prepared.apply_in_child().unwrap();
}

#[test]
fn the_error_says_commands_will_not_run_and_how_to_opt_out() {
    let text = SandboxError("Landlock is disabled on this kernel".into()).to_string();
    assert!(text.contains("Landlock is disabled"), "{text}");
    assert!(text.contains("will not run"), "{text}");
    assert!(text.contains("--sandbox danger-full-access"), "{text}");
}
