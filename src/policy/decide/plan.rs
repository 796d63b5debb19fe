//! Plan mode's view of a shell command: the short list of commands that only look.

use super::exec::Sub;

/// Whether `arg` is a cluster of short flags (`-ao`) that includes `flag`.
fn short_flag(arg: &str, flag: char) -> bool {
    arg.strip_prefix('-')
        .is_some_and(|f| !f.starts_with('-') && f.contains(flag))
}

/// Plan mode's short list of commands that only look. Anything else, or any write to a
/// file, is refused in plan mode whatever the rules say.
pub(super) fn read_only(s: &Sub) -> bool {
    if !s.known.is_empty() || !s.unknown.is_empty() {
        return false;
    }
    let Some(name) = s.words.first() else {
        return true;
    };
    let args = &s.words[1..];
    let has = |flags: &[&str]| args.iter().any(|a| flags.iter().any(|f| a.starts_with(f)));
    match name.as_str() {
        "ls" | "cat" | "head" | "tail" | "wc" | "pwd" | "echo" | "which" | "type" | "stat"
        | "du" | "df" | "grep" => true,
        // `printf -v 'a[$(cmd)]'` assigns (and evaluates); `file -C` compiles a magic file.
        "printf" => !has(&["-v"]),
        "file" => !args.iter().any(|a| a == "--compile" || short_flag(a, 'C')),
        // `rg --pre CMD` runs CMD on every file; `tree -o FILE` writes FILE.
        "rg" => !has(&["--pre"]),
        "tree" => !has(&["--output"]) && !args.iter().any(|a| short_flag(a, 'o')),
        "find" => !has(&["-exec", "-execdir", "-delete", "-ok", "-fprint", "-fls"]),
        "cd" => true,
        // `git log --output=FILE` writes FILE.
        "git" if has(&["--output"]) => false,
        // `git branch NAME` creates, `-D` deletes, `-f` moves: only listing it is reading.
        "git" if args.first().is_some_and(|a| a == "branch") => args[1..].iter().all(|a| {
            matches!(
                a.as_str(),
                "-a" | "--all"
                    | "-r"
                    | "--remotes"
                    | "-v"
                    | "-vv"
                    | "--verbose"
                    | "-l"
                    | "--list"
                    | "--show-current"
                    | "--merged"
                    | "--no-merged"
                    | "--no-color"
            )
        }),
        "git" => args.first().is_some_and(|a| {
            matches!(
                a.as_str(),
                "status" | "log" | "diff" | "show" | "blame" | "rev-parse" | "ls-files"
            )
        }),
        "cargo" => args.first().is_some_and(|a| a == "metadata" || a == "tree"),
        _ => false,
    }
}
