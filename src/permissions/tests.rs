use super::*;
use crate::config::ConfigFiles;
use std::fs;

struct Dirs {
    home: tempfile::TempDir,
    project: tempfile::TempDir,
}

fn dirs(project_toml: &str, user_toml: &str) -> Dirs {
    let d = Dirs {
        home: tempfile::tempdir().unwrap(),
        project: tempfile::tempdir().unwrap(),
    };
    fs::create_dir_all(d.project.path().join(".git")).unwrap();
    fs::write(d.project.path().join(".corecoder.toml"), project_toml).unwrap();
    let user = d.home.path().join(".config/corecoder");
    fs::create_dir_all(&user).unwrap();
    fs::write(user.join("config.toml"), user_toml).unwrap();
    d
}

fn load(d: &Dirs, flags: &PermissionFlags) -> Result<(Permissions, Vec<String>), ConfigError> {
    let files = ConfigFiles::discover(d.project.path(), Some(d.home.path()))?;
    Permissions::load(flags, &files, d.project.path(), Some(d.home.path()))
}

fn shown(p: &Permissions) -> Vec<String> {
    let entries = p.entries();
    entries
        .iter()
        .map(|e| format!("{} {}", e.kind, e.rule))
        .collect()
}

const PROJECT: &str = "permission_mode = \"bypassPermissions\"\n\
    [permissions]\nallow = [\"bash\"]\ndeny = [\"bash(curl:*)\"]\nask = [\"edit_file(Cargo.toml)\"]\n";

#[test]
fn a_project_file_cannot_grant_itself_permissions() {
    let d = dirs(PROJECT, "");
    let (p, notices) = load(&d, &PermissionFlags::default()).unwrap();
    assert_eq!(p.mode(), Mode::Default);
    assert_eq!(
        shown(&p),
        ["deny bash(curl:*)", "ask edit_file(Cargo.toml)"]
    );
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(notices[0].contains("allow rules") && notices[0].contains("trust_level"));
    assert!(notices[1].contains("permission_mode"));
}

#[test]
fn a_trusted_project_may_allow_and_set_the_mode() {
    let d = dirs(PROJECT, "");
    let root = d.project.path().canonicalize().unwrap();
    let user = format!(
        "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        root.display()
    );
    fs::write(d.home.path().join(".config/corecoder/config.toml"), user).unwrap();
    let (p, notices) = load(&d, &PermissionFlags::default()).unwrap();
    assert!(notices.is_empty(), "{notices:?}");
    assert_eq!(p.mode(), Mode::BypassPermissions);
    assert!(shown(&p).contains(&"allow bash".to_string()));
}

#[test]
fn flags_win_over_files_and_bad_rules_name_their_origin() {
    let d = dirs(
        "",
        "permission_mode = \"plan\"\n[permissions]\nallow = [\"read_file\"]\n",
    );
    let flags = PermissionFlags {
        mode: Some("acceptEdits".into()),
        allow: vec!["Bash(cargo test:*)".into()],
        deny: vec![],
    };
    let (p, _) = load(&d, &flags).unwrap();
    assert_eq!(p.mode(), Mode::AcceptEdits);
    assert_eq!(shown(&p), ["allow bash(cargo test:*)", "allow read_file"]);
    let (p, _) = load(&d, &PermissionFlags::default()).unwrap();
    assert_eq!(p.mode(), Mode::Plan);
    let bad = PermissionFlags {
        allow: vec!["bash(".into()],
        ..PermissionFlags::default()
    };
    let err = load(&d, &bad).err().unwrap().to_string();
    assert!(err.contains("--allow") && err.contains("bash("), "{err}");
    let bad = PermissionFlags {
        mode: Some("yolo".into()),
        ..PermissionFlags::default()
    };
    let err = load(&d, &bad).err().unwrap().to_string();
    assert!(
        err.contains("--permission-mode") && err.contains("yolo"),
        "{err}"
    );
}

#[test]
fn always_answers_are_saved_outside_the_project_and_come_back() {
    let d = dirs("", "");
    let (p, _) = load(&d, &PermissionFlags::default()).unwrap();
    let rule = Rule::parse("bash(cargo test:*)").unwrap();
    p.remember(std::slice::from_ref(&rule)).unwrap();
    let saved = fs::read_dir(d.home.path().join(".config/corecoder/approvals"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = fs::read_to_string(&saved).unwrap();
    assert!(text.contains("\"bash(cargo test:*)\""), "{text}");
    let project_files: Vec<_> = fs::read_dir(d.project.path()).unwrap().collect();
    assert_eq!(
        project_files.len(),
        2,
        "only .git and .corecoder.toml in the project"
    );

    let (again, _) = load(&d, &PermissionFlags::default()).unwrap();
    assert_eq!(shown(&again), ["allow bash(cargo test:*)"]);
    assert_eq!(again.entries()[0].source, Source::Saved(saved.clone()));
    let said = again.remove(0).unwrap();
    assert!(
        said.starts_with("Removed allow bash(cargo test:*)"),
        "{said}"
    );
    let (emptied, _) = load(&d, &PermissionFlags::default()).unwrap();
    assert!(emptied.entries().is_empty());
    assert!(again.remove(5).is_err());
}

#[test]
fn the_project_root_is_the_git_root() {
    let d = dirs("", "");
    let sub = d.project.path().join("a/b");
    fs::create_dir_all(&sub).unwrap();
    assert_eq!(project_root(&sub), d.project.path());
    let plain = tempfile::tempdir().unwrap();
    assert_eq!(project_root(plain.path()), plain.path());
}

#[test]
fn two_sessions_of_one_project_keep_each_others_answers() {
    let d = dirs("", "");
    let (first, _) = load(&d, &PermissionFlags::default()).unwrap();
    let (second, _) = load(&d, &PermissionFlags::default()).unwrap();
    first
        .remember(&[Rule::parse("bash(ls:*)").unwrap()])
        .unwrap();
    second
        .remember(&[Rule::parse("bash(cat:*)").unwrap()])
        .unwrap();
    let (third, _) = load(&d, &PermissionFlags::default()).unwrap();
    assert_eq!(shown(&third), ["allow bash(ls:*)", "allow bash(cat:*)"]);
    // Removing its own answer leaves the other session's in the file.
    assert_eq!(shown(&second), ["allow bash(cat:*)"]);
    second.remove(0).unwrap();
    let (fourth, _) = load(&d, &PermissionFlags::default()).unwrap();
    assert_eq!(shown(&fourth), ["allow bash(ls:*)"]);
}

#[test]
fn a_damaged_file_of_answers_costs_the_answers_not_the_session() {
    let d = dirs("", "");
    let (p, _) = load(&d, &PermissionFlags::default()).unwrap();
    p.remember(&[Rule::parse("bash(ls:*)").unwrap()]).unwrap();
    let dir = d.home.path().join(".config/corecoder/approvals");
    let file = fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    fs::write(&file, "allow = [\"bash(\"]\n").unwrap();
    let (p, notices) = load(&d, &PermissionFlags::default()).unwrap();
    assert!(
        notices.iter().any(|n| n.contains("this session only")),
        "{notices:?}"
    );
    p.remember(&[Rule::parse("bash(cat:*)").unwrap()]).unwrap();
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "allow = [\"bash(\"]\n",
        "left alone"
    );
}
