// A test that needs root or O_TMPFILE says on stderr that it was skipped.
#![allow(clippy::print_stderr)]

use super::*;
use std::os::unix::fs::MetadataExt;

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn replace_creates_and_replaces_a_file_and_leaves_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    replace(&path, b"one").unwrap();
    replace(&path, b"two, longer").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"two, longer");
    assert_eq!(names(dir.path()), ["a.txt"]);
}

#[test]
fn replace_keeps_the_exact_mode_including_set_id_bits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.sh");
    std::fs::write(&path, "old").unwrap();
    std::fs::set_permissions(&path, Permissions::from_mode(0o2751)).unwrap();
    replace(&path, b"new").unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o7777, 0o2751);
}

#[test]
fn replace_keeps_the_owner_and_group_when_the_process_may_set_them() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: giving a file another owner needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("owned.txt");
    std::fs::write(&path, "old").unwrap();
    std::os::unix::fs::chown(&path, Some(4321), Some(8765)).unwrap();
    std::fs::set_permissions(&path, Permissions::from_mode(0o4755)).unwrap();
    replace(&path, b"new").unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (4321, 8765));
    assert_eq!(meta.mode() & 0o7777, 0o4755, "set-uid survives the chown");
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
}

#[test]
fn replace_keeps_hard_links_so_every_name_sees_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "the original, long content").unwrap();
    std::fs::hard_link(&a, &b).unwrap();
    let inode = std::fs::metadata(&a).unwrap().ino();
    replace(&a, b"short").unwrap();
    assert_eq!(std::fs::read(&b).unwrap(), b"short");
    replace(&b, b"and a longer one than before").unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), b"and a longer one than before");
    let meta = std::fs::metadata(&a).unwrap();
    assert_eq!((meta.ino(), meta.nlink()), (inode, 2));
    assert_eq!(names(dir.path()), ["a", "b"]);
}

#[test]
fn replace_follows_a_symlink_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.txt");
    let link = dir.path().join("link.txt");
    std::fs::write(&real, "old").unwrap();
    std::os::unix::fs::symlink("real.txt", &link).unwrap();
    replace(&link, b"new").unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(std::fs::read(&real).unwrap(), b"new");
}

#[test]
fn the_new_content_has_no_name_until_it_is_complete() {
    // The unnamed temp file is what leaves nothing behind after a kill -9 mid-write.
    let dir = tempfile::tempdir().unwrap();
    match open_unnamed(dir.path(), None).unwrap() {
        Some(file) => {
            fill(&file, b"x", None, None).unwrap();
            assert!(names(dir.path()).is_empty());
        }
        None => eprintln!("skipped: this file system has no O_TMPFILE"),
    }
}
