//! One-liners for interpreters (`python -c`, `perl -e`, `ruby -e`, `node -e`, `php -r`,
//! `lua -e`, `deno eval`, `R -e`, `osascript -e`, awk programs, code piped or heredoc'd into
//! them): recursive-delete calls aimed at `/`, home or system directories, deletes of vital
//! files, fork loops, raw device writes, code fetched and evaluated, and shell commands they
//! hand to `system`/`subprocess`/`exec`/`os.execute`/`do shell script`, which the caller
//! checks as shell. Expressions for the home directory (`os.homedir()`, `Dir.home`,
//! `Deno.env.get("HOME")`…) read as the literal `"~"`.
//!
//! This reads code the way the shell parser reads words: string literals and call shapes,
//! not a full grammar. Code that computes its target (`rmtree(p)`) is out of reach.

use std::sync::LazyLock;

use regex::Regex;

use super::paths::{is_block_device, resolve, root_kind};
use super::rules::files::{CRITICAL, SYSTEM_FILE, is_critical, is_history, is_system_file};
use super::rules::{
    DELETE, DISK, FORK_BOMB, OBFUSCATED, RCE, REVERSE_SHELL, SECRET, TRACKS, reason,
};
use super::shell_words::unescape;

static FORK_LOOP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)fork\s*(\(\))?\s*while\s*(fork|1|true)|while\s*\(?\s*(1|true)\s*\)?[^\n]{0,80}\bfork\b|for\s*\(\s*;\s*;\s*\)[^\n]{0,80}\bfork\b|loop\s*(\{|do)\s*fork",
    )
    .ok()
});

static DELETE_CALL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"\b(rmtree|rmSync|rmdirSync|rm_rf|rm_r|remove_tree|rimraf|removedirs|rm|rmdir|remove_dir_all|remove_entry_secure|remove|removeSync|unlink|unlinkSync|remove_dir|remove_entry|delete_dir|deleteRecursively|removeItem)\b(\.sync)?\s*\(?\s*",
    )
    .ok()
});

/// Expressions for the home directory (or `/`), anywhere in the code.
static HOME_EXPR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(os\.path\.expanduser\(\s*['"]~/?['"]\s*\)|(pathlib\.)?Path\.home\(\)"#,
        r#"|(require\(\s*['"](node:)?os['"]\s*\)|os)\.homedir\(\)|process\.env\.HOME"#,
        r#"|process\.env\[['"]HOME['"]\]|os\.environ\[['"]HOME['"]\]"#,
        r#"|os\.(environ\.get|getenv)\(\s*['"]HOME['"]\s*\)|Dir\.home|ENV\[['"]HOME['"]\]"#,
        r#"|\$ENV\{\s*['"]?HOME['"]?\s*\}|(pathlib\.)?Path\(\s*['"](/|~)['"]\s*\)(\.expanduser\(\))?"#,
        r#"|File\.expand_path\(\s*['"]~['"]\s*\)|glob\(\s*['"]/\*['"]\s*\)"#,
        r#"|Deno\.env\.get\(\s*['"]HOME['"]\s*\)|Deno\.homeDir\(\)|Sys\.getenv\(\s*['"]HOME['"]\s*\)"#,
        r#"|path\.expand\(\s*['"]~['"]\s*\)|\$_SERVER\[['"]HOME['"]\]|getenv\(\s*['"]HOME['"]\s*\)"#,
        r#"|\bhomedir\(\)|System\.getProperty\(\s*['"]user\.home['"]\s*\)|System\.user_home\(\))"#,
    ))
    .ok()
});

static SHELL_CALL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"\b(system|system2|popen|exec|execSync|execFileSync|spawnSync|spawn|execFile|check_call|check_output|call|run|Popen|getoutput|getstatusoutput|exec_command|shell_exec|passthru|proc_open|pcntl_exec|execute|Command|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?|Command::new|cmd)\s*\(|%x|\bqx|`|\bsystem\s|\bexec\s+['"]|do shell script"#,
    )
    .ok()
});

/// Code that runs a string as code.
static EVALUATES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\b(exec|eval|execfile|compile|instance_eval|Function)\s*\(|\beval\b").ok()
});

/// Code that fetches from the network.
static FETCHES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"urlopen|urllib|requests\.get|__import__\(\s*['"](requests|httpx|urllib[\w.]*|http\.client)['"]\s*\)|\.get\(\s*['"]https?:|https?\.get|require\(\s*.(node:)?https?.\s*\)|\bfetch\(|Net::HTTP|open-uri|URI\.open|LWP|HTTP::Tiny|axios|httpx|file_get_contents\(\s*['"]https?:|curl_exec|readLines\(\s*(url\()?['"]https?:"#).ok()
});

/// Code loaded straight from a URL: `source("https://…")` in R, `include`/`require` of a URL
/// in PHP, `import("https://…")` in Deno.
static REMOTE_LOAD: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"\b(source|include|include_once|require|require_once|import|load)\s*\(?\s*['"]https?://"#,
    )
    .ok()
});

/// Ruby's and Perl's command quotes.
static QUOTED_COMMAND: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(%x|\bqx)\s*[({\[]([^)}\]]*)[)}\]]").ok());

/// Code that opens a network connection.
static CONNECTS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"socket\.socket|\bsocket\(|fsockopen|TCPSocket|IO::Socket|\bSocket\b.*connect|net\.connect|net\.Socket|createConnection|socket\.tcp|/dev/tcp/|/inet/(tcp|udp)|\bztcp\b|new Socket\(|require\(\s*['"](node:)?net['"]\s*\)"#).ok()
});

/// Code that hands a shell (or what the peer sends) to run.
static RUNS_SHELL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"/bin/(ba|z|da|k)?sh\b|['"](ba)?sh['"]|\b(ba)?sh -i|cmd\.exe|pty\.spawn|dup2|\|&|getline"#).ok()
});

/// Code that writes a file (the mode letter of `open(p, 'a')` included).
static WRITES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)write|appendFile|append_file|file_put_contents|>>|['"]\s*[wa]\+?b?\s*['"]"#)
        .ok()
});

/// Code that sends data somewhere.
static SENDS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"requests\.(post|put|patch)|urlopen|urllib\.request|\bfetch\(|https?\.request|Net::HTTP|axios|httpx|socket|curl_exec|LWP|HTTP::Tiny|\.post\(").ok()
});

/// Code that reads the whole environment or a credential file.
static SECRET_SOURCE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"os\.environ\s*[),}\]]|os\.environ\.(items|copy)|dict\(\s*os\.environ|process\.env\s*[),}\]]"#,
        r#"|JSON\.stringify\(\s*process\.env|ENV\.to_h|%ENV|\bENV\s*[),}\]]|getenv\(\s*\)"#,
        r#"|\.ssh/id_|\.aws/credentials|\.netrc|\.git-credentials|\.kube/config|['"/]\.env['"]"#,
    ))
    .ok()
});

/// Whether the code runs strings as code (so what it reads decides what runs).
pub fn evaluates(code: &str) -> bool {
    matches(&EVALUATES, code)
}

/// Decoding calls: decoded text handed to `system`/`exec`/`eval` hides what runs.
static DECODE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"b64decode|decode_base64|base64\.decode|['"]base64['"]|\batob\(|unpack\(\s*['"]m|pack\(\s*['"]H|\bchr\(|fromCharCode|fromhex|codecs\.decode|\bunhexlify|decode\(\s*['"](hex|rot13|rot_13)"#,
    )
    .ok()
});

fn matches(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

/// Checks interpreter code; on success returns the shell commands it passes to the shell,
/// which the caller checks as shell.
pub fn inspect(code: &str) -> Result<Vec<String>, String> {
    let home = HOME_EXPR
        .as_ref()
        .map(|re| re.replace_all(code, "\"~\"").into_owned());
    let code = home.as_deref().unwrap_or(code);
    // A home expression inside a template string: `${"~"}` is `~`.
    let templated = code.replace("${\"~\"}", "~").replace("#{\"~\"}", "~");
    let code = templated.as_str();
    if matches(&FORK_LOOP, code) {
        return Err(FORK_BOMB.to_string());
    }
    if matches(&REMOTE_LOAD, code) {
        return Err(RCE.to_string());
    }
    // A socket and a shell: the classic reverse shell one-liners.
    if matches(&CONNECTS, code) && matches(&RUNS_SHELL, code) {
        return Err(REVERSE_SHELL.to_string());
    }
    if let Some(re) = DELETE_CALL.as_ref() {
        for m in re.find_iter(code) {
            match dangerous_target(first_argument(&code[m.end()..])) {
                Some((target, true)) => return Err(reason(CRITICAL, &target)),
                Some((target, false)) => return Err(reason(DELETE, &target)),
                None => {}
            }
        }
    }
    let fetches_by_shell = string_literals(code)
        .iter()
        .any(|l| l.starts_with("curl ") || l.starts_with("wget "));
    if evaluates(code) && (matches(&FETCHES, code) || fetches_by_shell) {
        return Err(RCE.to_string());
    }
    if matches(&SENDS, code) && matches(&SECRET_SOURCE, code) {
        return Err(SECRET.to_string());
    }
    let mut literals = string_literals(code);
    // `%x(cmd)` and `qx(cmd)` are backticks in Ruby and Perl.
    if let Some(re) = QUOTED_COMMAND.as_ref() {
        literals.extend(
            re.captures_iter(code)
                .filter_map(|c| c.get(2))
                .map(|m| m.as_str().to_string()),
        );
    }
    if matches(&WRITES, code) {
        for literal in &literals {
            let path = resolve(literal.trim_start_matches(['>', '<', '+', '|', ' ']), None);
            if is_history(&path) {
                return Err(TRACKS.to_string());
            }
            if path.starts_with(['/', '~']) && is_system_file(&path) {
                return Err(reason(SYSTEM_FILE, &path));
            }
        }
    }
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
    // Each call's own arguments: `exec('rm -rf ' + home)` is one string, `run(['rm',
    // '-rf', '/'])` one command.
    if let Some(re) = SHELL_CALL.as_ref() {
        for m in re.find_iter(code) {
            let args = string_literals(call_arguments(&code[m.end()..]));
            shell.push(args.join(" "));
            shell.push(args.concat());
        }
    }
    Ok(shell)
}

/// A call's whole argument list: up to its closing `)` or the end of the statement.
fn call_arguments(rest: &str) -> &str {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') if depth == 0 => return &rest[..i],
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ';' | '\n') if depth == 0 => return &rest[..i],
            _ => {}
        }
    }
    rest
}

/// Output calls: `print(…)`, `puts …`, `console.log(…)`, `echo …`, `say …`.
static PRINTS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\b(print|println|puts|say|echo|printf|console\.log|process\.stdout\.write|io\.write|cat)\b\s*\(?").ok()
});

/// What code prints, when it prints string literals (`print("rm -rf ~")`), and whether what
/// it prints is decoded (`print(base64.b64decode(…))`, `chr(114)+chr(109)`).
pub fn printed(code: &str) -> (Option<String>, bool) {
    let decoded = matches(&DECODE, code) || code.contains("chr(") || code.contains("fromCharCode");
    let Some(re) = PRINTS.as_ref() else {
        return (None, decoded);
    };
    let mut text = String::new();
    let mut any = false;
    for m in re.find_iter(code) {
        let literals = string_literals(call_arguments(&code[m.end()..]));
        if !literals.is_empty() {
            any = true;
            text.push_str(&literals.concat());
            text.push('\n');
        }
    }
    (any.then_some(text), decoded && re.is_match(code))
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

/// The argument as a path when it is a literal naming a dangerous root, or (`true`) a vital
/// system file.
fn dangerous_target(arg: &str) -> Option<(String, bool)> {
    let arg = arg.trim_start_matches("path=").trim();
    // `unlink glob "/etc/*"`, `rm_rf(Dir.glob("/*"))`.
    let arg = arg
        .strip_prefix("glob")
        .or_else(|| arg.strip_prefix("Dir.glob"))
        .map_or(arg, |g| {
            g.trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim()
        });
    let literals = string_literals(arg);
    // Only literals count: `"~" + "/"` is home, `'/' + name` or `f'/{x}'` some other path.
    let joined = literals.concat();
    let quoted: usize = literals.iter().map(|l| l.len() + 2).sum();
    let glue = arg.chars().filter(|c| !" +.".contains(*c)).count();
    if literals.is_empty() || glue > quoted + 1 {
        return None;
    }
    let path = &joined;
    let resolved = resolve(path, None);
    if is_critical(&resolved) {
        return Some((path.clone(), true));
    }
    root_kind(&resolved).map(|_| (path.clone(), false))
}

/// The contents of the `'…'`, `"…"` and `` `…` `` literals in code, escapes undone.
fn string_literals(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        if !matches!(c, '\'' | '"' | '`') {
            continue;
        }
        let mut lit = String::new();
        while let Some(&d) = chars.get(i) {
            i += 1;
            match d {
                // `'\x72\x6d'`, `"\162\155"`, `'\u0072'` are `rm` to the interpreter.
                '\\' => {
                    let (ch, used) = unescape(&chars[i..]);
                    lit.push(ch);
                    i += used.max(1).min(chars.len() - i);
                }
                d if d == c => break,
                d => lit.push(d),
            }
        }
        out.push(lit);
    }
    out
}
