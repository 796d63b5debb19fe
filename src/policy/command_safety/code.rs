//! One-liners for interpreters (`python -c`, `perl -e`, `ruby -e`, `node -e`, code piped or
//! heredoc'd into them): recursive-delete calls aimed at `/`, home or system directories,
//! fork loops, raw device writes, and shell commands they hand to `system`/`subprocess`.
//!
//! This reads code the way the shell parser reads words: string literals and call shapes,
//! not a full grammar. Code that computes its target (`rmtree(p)`) is out of reach.

use std::sync::LazyLock;

use regex::Regex;

use super::paths::{is_block_device, resolve, root_kind};
use super::rules::{DELETE, DISK, FORK_BOMB, OBFUSCATED, RCE, reason};

static FORK_LOOP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)fork\s*(\(\))?\s*while\s*fork|while\s*\(?\s*(1|true)\s*\)?\s*[:{]?\s*(os\.)?fork\s*\(|for\s*\(\s*;\s*;\s*\)\s*\{?\s*fork",
    )
    .ok()
});

static DELETE_CALL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"\b(rmtree|rmSync|rmdirSync|rm_rf|rm_r|remove_tree|rimraf|removedirs|rm|rmdir|remove_dir_all|remove_entry_secure)\b(\.sync)?\s*\(?\s*",
    )
    .ok()
});

static HOME_EXPR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"^(os\.path\.expanduser\(\s*['"]~/?['"]\s*\)|(pathlib\.)?Path\.home\(\)"#,
        r#"|(require\(\s*['"](node:)?os['"]\s*\)|os)\.homedir\(\)|process\.env\.HOME"#,
        r#"|process\.env\[['"]HOME['"]\]|os\.environ\[['"]HOME['"]\]"#,
        r#"|os\.(environ\.get|getenv)\(\s*['"]HOME['"]\s*\)|Dir\.home|ENV\[['"]HOME['"]\]"#,
        r#"|\$ENV\{\s*['"]?HOME['"]?\s*\}|(pathlib\.)?Path\(\s*['"](/|~)['"]\s*\)(\.expanduser\(\))?"#,
        r#"|File\.expand_path\(\s*['"]~['"]\s*\)|glob\(\s*['"]/\*['"]\s*\))$"#,
    ))
    .ok()
});

static SHELL_CALL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"\b(system|popen|exec|execSync|execFileSync|spawnSync|spawn|execFile|check_call|check_output|call|run|Popen|getoutput|getstatusoutput|exec_command)\s*\(|%x|\bqx|`|\bsystem\s",
    )
    .ok()
});

/// Code that runs a string as code.
static EVALUATES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\b(exec|eval|execfile|compile|instance_eval|Function)\s*\(|\beval\s").ok()
});

/// Code that fetches from the network.
static FETCHES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"urlopen|urllib|requests\.get|https?\.get|require\(\s*.(node:)?https?.\s*\)|\bfetch\(|Net::HTTP|open-uri|URI\.open|LWP|HTTP::Tiny|axios|httpx").ok()
});

/// Whether the code runs strings as code (so what it reads decides what runs).
pub fn evaluates(code: &str) -> bool {
    matches(&EVALUATES, code)
}

/// Decoding calls: decoded text handed to `system`/`exec`/`eval` hides what runs.
static DECODE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"b64decode|decode_base64|base64\.decode|['"]base64['"]|\batob\(|unpack\(\s*['"]m|fromhex|codecs\.decode|\bunhexlify|decode\(\s*['"](hex|rot13|rot_13)"#,
    )
    .ok()
});

fn matches(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

/// Checks interpreter code; on success returns the shell commands it passes to the shell,
/// which the caller checks as shell.
pub fn inspect(code: &str) -> Result<Vec<String>, String> {
    if matches(&FORK_LOOP, code) {
        return Err(FORK_BOMB.to_string());
    }
    if let Some(re) = DELETE_CALL.as_ref() {
        for m in re.find_iter(code) {
            if let Some(target) = dangerous_target(first_argument(&code[m.end()..])) {
                return Err(reason(DELETE, &target));
            }
        }
    }
    if evaluates(code) && matches(&FETCHES, code) {
        return Err(RCE.to_string());
    }
    let literals = string_literals(code);
    let writes = code.contains("open") || code.contains("write");
    if let Some(dev) = literals
        .iter()
        .find(|l| is_block_device(l))
        .filter(|_| writes)
    {
        return Err(reason(DISK, dev));
    }
    if !matches(&SHELL_CALL, code) && !code.contains("eval") {
        return Ok(Vec::new());
    }
    if matches(&DECODE, code) {
        return Err(OBFUSCATED.to_string());
    }
    let mut shell = literals.clone();
    shell.push(literals.join(" "));
    shell.push(literals.concat());
    Ok(shell)
}

/// The text of a call's first argument: up to the first top-level `,`, `)` or statement end.
fn first_argument(rest: &str) -> &str {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') if depth == 0 => return rest[..i].trim(),
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',' | ';' | '\n') if depth == 0 => return rest[..i].trim(),
            _ => {}
        }
    }
    rest.trim()
}

/// The argument as a path when it is a literal or home expression naming a dangerous root.
fn dangerous_target(arg: &str) -> Option<String> {
    let arg = arg.trim_start_matches("path=").trim();
    if matches(&HOME_EXPR, arg) {
        return Some(arg.to_string());
    }
    let literals = string_literals(arg);
    let [path] = literals.as_slice() else {
        return None;
    };
    let quoted_len = path.len() + 2;
    // Only a bare literal counts: `'/' + name` or `f'/{x}'` is some other path.
    if arg.len() > quoted_len + 1 {
        return None;
    }
    root_kind(&resolve(path, None)).map(|_| path.clone())
}

/// The contents of the `'…'`, `"…"` and `` `…` `` literals in code, escapes undone.
fn string_literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        if !matches!(c, '\'' | '"' | '`') {
            continue;
        }
        let mut lit = String::new();
        while let Some(d) = chars.next() {
            match d {
                '\\' => lit.extend(chars.next()),
                d if d == c => break,
                d => lit.push(d),
            }
        }
        out.push(lit);
    }
    out
}
