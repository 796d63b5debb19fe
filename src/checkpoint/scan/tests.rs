use std::collections::BTreeSet;

use super::*;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn ours(root: &Path) -> BTreeSet<PathBuf> {
    let (found, errors) = Scanner::new(root, &[]).walk();
    assert!(errors.is_empty(), "{errors:?}");
    found.into_iter().map(|(p, _, _)| p).collect()
}

fn the_crates(root: &Path) -> BTreeSet<PathBuf> {
    ignore::WalkBuilder::new(root)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.depth() > 0)
        .map(|e| e.path().strip_prefix(root).unwrap().to_path_buf())
        .collect()
}

#[test]
fn keeps_exactly_what_the_ignore_crates_walker_keeps() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join(".git/info")).unwrap();
    std::fs::write(root.join(".git/info/exclude"), "excluded\n").unwrap();
    std::fs::write(tmp.path().join(".ignore"), "from-above\n").unwrap();
    write(
        &root,
        ".gitignore",
        "*.log\n/build/\n!keep.log\nsub/deep/x.txt\n",
    );
    write(&root, ".ignore", "secret*\n!secret-ok\n");
    write(&root, "sub/.gitignore", "!*.log\n*.tmp\n");
    write(&root, "sub/.ignore", "!secret-sub\n");
    for rel in [
        "a.log",
        "keep.log",
        "build/out",
        "sub/build/kept",
        "sub/b.log",
        "sub/c.tmp",
        "sub/deep/x.txt",
        "sub/deep/y.txt",
        "secret1",
        "secret-ok",
        "sub/secret-sub",
        "excluded",
        "sub/excluded",
        ".hidden",
        ".config/x",
        "from-above",
        "plain.rs",
        "nested/.gitignore",
        "nested/n.txt",
        "nested/a.log",
        "nested/keep",
    ] {
        write(&root, rel, "x");
    }
    std::fs::write(root.join("nested/.gitignore"), "n.txt\n").unwrap();
    std::fs::create_dir_all(root.join("nested/.git")).unwrap();
    std::fs::create_dir_all(root.join("empty/dir")).unwrap();
    let kept = ours(&root);
    assert_eq!(kept, the_crates(&root));
    for gone in [
        "a.log",
        "build",
        "excluded",
        "secret1",
        "from-above",
        "sub/c.tmp",
    ] {
        assert!(!kept.contains(Path::new(gone)), "{gone} was kept");
    }
    for here in ["keep.log", "sub/b.log", "sub/secret-sub", "empty/dir"] {
        assert!(kept.contains(Path::new(here)), "{here} was dropped");
    }
    // The workspace a directory of the repository: the parents' rules apply.
    assert_eq!(ours(&root.join("sub")), the_crates(&root.join("sub")));
}
