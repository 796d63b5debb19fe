//! Word-level rules of the splitter: brace expansion, which leading assignments are part of
//! a command, and what makes a command unreadable (flags whose values hide the program, code
//! stored in a variable and evaluated later). Pure text work over the splitter's words.

/// Most words one brace expansion may give before the command counts as unreadable.
const MAX_BRACES: usize = 64;
/// Variables a leading `NAME=value` may set while the command still counts as itself:
/// display and locale settings, log levels, CI flags. Any other (`PATH`, `LD_PRELOAD`,
/// `GIT_EXTERNAL_DIFF`, `PAGER`…) can make the program run other code, so it stays part of
/// the command and needs its own rule (`GIT_PAGER=cat git log` is not `git log`).
const HARMLESS_VARS: &[&str] = &[
    "RUST_BACKTRACE",
    "RUST_LOG",
    "RUST_TEST_THREADS",
    "RUST_MIN_STACK",
    "CARGO_TERM_COLOR",
    "CARGO_INCREMENTAL",
    "CI",
    "NODE_ENV",
    "DEBUG",
    "VERBOSE",
    "TZ",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "LC_COLLATE",
    "LC_NUMERIC",
    "LC_TIME",
    "TERM",
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "COLUMNS",
    "LINES",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONHASHSEED",
    "GOOS",
    "GOARCH",
    "CGO_ENABLED",
    "TERM_PROGRAM",
    "NODE_NO_WARNINGS",
];

/// Where the command of `xargs [flags] cmd…` starts; `None` when a flag is one we do not know
/// (it might take the next word as its value, so the command could be any word).
pub(super) fn xargs_start(words: &[String]) -> Option<usize> {
    // Short flags that take a value (in the same word or the next), and long ones.
    const VALUE: &str = "IdEaLnPs";
    const LONG_VALUE: &[&str] = &[
        "--arg-file",
        "--delimiter",
        "--max-args",
        "--max-procs",
        "--max-chars",
        "--max-lines",
        "--process-slot-var",
        "--replace",
        "--eof",
    ];
    const LONG_FLAG: &[&str] = &[
        "--null",
        "--verbose",
        "--interactive",
        "--no-run-if-empty",
        "--exit",
        "--open-tty",
        "--show-limits",
    ];
    let mut i = 1;
    while let Some(a) = words.get(i).filter(|a| a.starts_with('-') && a.len() > 1) {
        i += 1;
        if a == "--" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let name = format!("--{}", long.split('=').next().unwrap_or(long));
            match (
                LONG_FLAG.contains(&name.as_str()),
                LONG_VALUE.contains(&name.as_str()),
            ) {
                (true, _) => {}
                (_, true) => i += usize::from(!a.contains('=')),
                _ => return None,
            }
            continue;
        }
        // A cluster such as `-0tI`: the first value-taking letter takes the rest of the word,
        // or the next word when it ends the cluster.
        for (k, c) in a.char_indices().skip(1) {
            if VALUE.contains(c) {
                i += usize::from(k + 1 == a.len());
                break;
            }
            // `-i`, `-e`, `-l` take an optional attached value; the rest are plain flags.
            if "iel".contains(c) || "0prtx".contains(c) {
                if "iel".contains(c) {
                    break;
                }
                continue;
            }
            return None;
        }
    }
    Some(i)
}

/// Bash runs code hidden in a variable's value in a few places: `${X@P}` expands it as a
/// prompt (running its `$( )`), and `${!X}`, arithmetic (`$((X))`, `((X))`, `let`, `[[ X -eq
/// 1 ]]`) and array subscripts evaluate a value such as `a[$(cmd)]`. A script that both gets
/// text into a variable (a substitution, `read`, a quoted `$(`) and evaluates one runs what
/// cannot be read from it. Over-approximates: `for i in $(seq 3); do echo $((i*2)); done` asks.
pub(super) fn evaluates_stored_code(src: &str) -> bool {
    if src.contains("@P") || src.contains("${!") {
        return true;
    }
    let chars: Vec<char> = src.chars().collect();
    let substitution = (0..chars.len().saturating_sub(1))
        .any(|i| chars[i] == '$' && chars[i + 1] == '(' && chars.get(i + 2) != Some(&'('))
        || src.contains('`');
    // Whole words: `read` inside `thread` or `already` loads nothing.
    let stores = substitution
        || src
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| matches!(w, "read" | "mapfile" | "readarray"));
    let evaluates = ["((", "let ", "[[", "-eq", "-ne", "-lt", "-le", "-gt", "-ge"]
        .iter()
        .any(|w| src.contains(w))
        || (src.contains("${") && src.contains('['));
    stores && evaluates
}

/// Builtins that evaluate array subscripts in their arguments (`printf -v 'a[$(cmd)]' x`
/// runs `cmd`): with a substitution inside brackets, the command is unreadable.
pub(super) fn evaluates_subscripts(name: &str, words: &[String]) -> bool {
    const EVALUATING: &[&str] = &[
        "printf",
        "declare",
        "typeset",
        "local",
        "export",
        "readonly",
        "let",
        "read",
        "unset",
        "mapfile",
        "readarray",
        "test",
        "[",
        "[[",
    ];
    EVALUATING.contains(&name)
        && words
            .iter()
            .any(|w| w.contains('[') && (w.contains("$(") || w.contains('`')))
}

/// Brace expansion of every word (`find . {-exec,touch} x` is `find . -exec touch x`), so
/// rules and the read-only list see what bash will run; `None` when it would explode.
pub(crate) fn expand_all(words: Vec<String>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for word in words {
        // Each `{` is a candidate the expansion rescans from: bound them, as hostile input.
        if word.matches('{').count() > MAX_BRACES {
            return None;
        }
        if word.contains('{') && word.contains(',') {
            let mut budget = MAX_BRACES;
            braces(&word, &mut out, &mut budget)?;
        } else {
            out.push(word);
        }
    }
    Some(out)
}

/// Bash's `{a,b}` expansion of one word, nested ones included, into `out`.
fn braces(word: &str, out: &mut Vec<String>, budget: &mut usize) -> Option<()> {
    let chars: Vec<char> = word.chars().collect();
    for open in (0..chars.len()).filter(|&i| chars[i] == '{') {
        let (mut depth, mut commas, mut close) = (0usize, Vec::new(), None);
        for (k, c) in chars.iter().enumerate().skip(open) {
            match c {
                '{' => depth += 1,
                '}' if depth == 1 => {
                    close = Some(k);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 1 => commas.push(k),
                _ => {}
            }
        }
        let (Some(close), false) = (close, commas.is_empty()) else {
            continue;
        };
        let head: String = chars[..open].iter().collect();
        let tail: String = chars[close + 1..].iter().collect();
        let mut start = open + 1;
        for end in commas.into_iter().chain(std::iter::once(close)) {
            let alt: String = chars[start..end].iter().collect();
            braces(&format!("{head}{alt}{tail}"), out, budget)?;
            start = end + 1;
        }
        return Some(());
    }
    *budget = budget.checked_sub(1)?;
    out.push(word.to_string());
    Some(())
}

/// Removes the leading `NAME=value` words (after a wrapper too: `env A=1 cmd`) and returns
/// those that set something other than a harmless variable: they stay part of the command.
pub(super) fn take_assignments(words: &mut Vec<String>) -> Vec<String> {
    let n = words
        .iter()
        .take_while(|w| assignment_name(w).is_some())
        .count();
    let taken: Vec<String> = words.drain(..n).collect();
    taken
        .into_iter()
        .filter(|w| assignment_name(w).is_none_or(|n| !HARMLESS_VARS.contains(&n)))
        .collect()
}

/// `NAME` of a `NAME=value` word.
pub(crate) fn assignment_name(word: &str) -> Option<&str> {
    let (name, _) = word.split_once('=')?;
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(name)
}

/// Variables whose plain assignment changes what later commands of the same script run or
/// where they write: the shell's own lookups, and (when already exported, which we cannot
/// know) the loader's and git's.
pub(super) fn steers_the_shell(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "PATH",
        "CDPATH",
        "HOME",
        "IFS",
        "ENV",
        "BASH_ENV",
        "PS4",
        "PROMPT_COMMAND",
        "SHELLOPTS",
        "BASHOPTS",
        "GLOBIGNORE",
        "PWD",
        "OLDPWD",
    ];
    const PARTS: &[&str] = &[
        "PATH", "PAGER", "EDITOR", "VISUAL", "OPT", "PRELOAD", "HOOK", "WRAPPER", "SHELL",
        "COMMAND", "ASKPASS", "CONFIG",
    ];
    let upper = name.to_ascii_uppercase();
    NAMES.contains(&name)
        || ["LD_", "DYLD_", "GIT_", "BASH_FUNC"]
            .iter()
            .any(|p| upper.starts_with(p))
        || PARTS.iter().any(|p| upper.contains(p))
}
