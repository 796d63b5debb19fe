//! Commands that run another command (`sudo`, `env`, `nice`, `timeout`, `nohup`…), and the
//! shape of a fork bomb. Unwrapping lets the rules see `sudo -u root env X=1 nice -n 5 rm`
//! as `rm`.

use super::shell_words::{Command, Pipeline, Script};

/// How to step over a wrapper: short flags that take a value, long flags that take a value,
/// and how many positional words (a duration, a new root) come before the wrapped command.
struct Spec {
    names: &'static [&'static str],
    short_values: &'static str,
    long_values: &'static [&'static str],
    positional: usize,
}

const SPECS: &[Spec] = &[
    Spec {
        names: &["sudo"],
        short_values: "ugpCDhrtTUR",
        long_values: &[
            "user",
            "group",
            "prompt",
            "chdir",
            "host",
            "role",
            "type",
            "other-user",
        ],
        positional: 0,
    },
    Spec {
        names: &["doas", "run0", "pkexec"],
        short_values: "uC",
        long_values: &["user"],
        positional: 0,
    },
    Spec {
        names: &["env"],
        short_values: "uCS",
        long_values: &["unset", "chdir"],
        positional: 0,
    },
    Spec {
        names: &["nice", "ionice", "renice"],
        short_values: "ncp",
        long_values: &["adjustment", "class", "classdata"],
        positional: 0,
    },
    Spec {
        names: &["timeout"],
        short_values: "sk",
        long_values: &["signal", "kill-after"],
        positional: 1,
    },
    Spec {
        names: &["chroot", "flock", "taskset"],
        short_values: "wE",
        long_values: &["userspec", "groups"],
        positional: 1,
    },
    Spec {
        names: &["stdbuf", "time", "exec"],
        short_values: "ioefa",
        long_values: &["input", "output", "error", "format"],
        positional: 0,
    },
    Spec {
        names: &[
            "nohup",
            "setsid",
            "unbuffer",
            "caffeinate",
            "proxychains",
            "proxychains4",
            "torsocks",
            "busybox",
            "builtin",
            "command",
        ],
        short_values: "",
        long_values: &[],
        positional: 0,
    },
    // Shell keywords come out of the parser as words; what follows them is a command.
    Spec {
        names: RESERVED,
        short_values: "",
        long_values: &[],
        positional: 0,
    },
];

pub(crate) const RESERVED: &[&str] = &[
    "then", "do", "else", "elif", "if", "while", "until", "!", "{", "}", "fi", "done", "esac",
];

pub enum Unwrap {
    /// Drop this many words; what remains is the wrapped command.
    Skip(usize),
    NotWrapper,
}

pub fn unwrap(name: &str, args: &[String]) -> Unwrap {
    // `command -v rm` only looks a name up.
    if name == "command" && args.get(1).is_some_and(|a| a == "-v" || a == "-V") {
        return Unwrap::NotWrapper;
    }
    let Some(spec) = SPECS.iter().find(|s| s.names.contains(&name)) else {
        return Unwrap::NotWrapper;
    };
    let mut i = 1;
    while let Some(a) = args.get(i) {
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" || spec.names == RESERVED {
            break;
        }
        i += 1;
        if let Some(long) = a.strip_prefix("--") {
            if spec.long_values.contains(&long) {
                i += 1;
            }
        } else if a[1..].ends_with(|c| spec.short_values.contains(c))
            && !a[1..].chars().all(|c| c.is_ascii_digit())
        {
            i += 1;
        }
    }
    Unwrap::Skip(i + spec.positional)
}

/// `sudo -s`, `sudo -i` and friends with no command start a shell reading stdin.
pub fn opens_shell(name: &str, args: &[String]) -> bool {
    matches!(name, "sudo" | "doas" | "run0")
        && args
            .iter()
            .any(|a| matches!(a.as_str(), "-s" | "-i" | "--shell" | "--login"))
}

/// A function that runs itself twice at once (`:(){ :|:& };:`, `f(){ f & f; }`) multiplies
/// without bound. Plain recursion, one call at a time, is fine.
pub fn calls_itself_in_parallel(name: &str, body: &Command) -> bool {
    let mut pipelines = Vec::new();
    collect_pipelines(body, &mut pipelines);
    let calls = |p: &Pipeline| p.commands.iter().filter(|c| calls_name(name, c)).count();
    let background: usize = pipelines
        .iter()
        .filter(|p| p.background)
        .map(|p| calls(p))
        .sum();
    let total: usize = pipelines.iter().map(|p| calls(p)).sum();
    pipelines.iter().any(|p| calls(p) >= 2) || (background >= 1 && total >= 2)
}

/// `while true; do cmd & done`: an endless loop that starts a background job each time round
/// with nothing in the loop that waits (`sleep`, `wait`) floods the machine with processes.
pub fn floods_processes(script: &Script) -> bool {
    let mut in_loop = false;
    let mut spawns = false;
    for p in &script.pipelines {
        let words: Vec<String> = match p.commands.first() {
            Some(Command::Simple { words, .. }) => words
                .iter()
                .map(|w| w.literal().unwrap_or_default())
                .collect(),
            _ => Vec::new(),
        };
        let words: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .skip_while(|w| matches!(*w, "then" | "else" | "{" | "do"))
            .collect();
        match words.as_slice() {
            ["while", "true" | ":" | "1"] | ["while", "[", "1", "]"] | ["until", "false"] => {
                in_loop = true;
                spawns = false;
            }
            ["done", ..] | ["do", "done", ..] => {
                if in_loop && spawns {
                    return true;
                }
                in_loop = false;
            }
            _ if in_loop && p.background => spawns = true,
            ws if in_loop && ws.iter().any(|w| matches!(*w, "sleep" | "wait" | "read")) => {
                in_loop = false;
            }
            _ => {}
        }
    }
    false
}

fn collect_pipelines<'a>(command: &'a Command, out: &mut Vec<&'a Pipeline>) {
    if let Command::Group { body, .. } = command {
        collect_script(body, out);
    }
}

fn collect_script<'a>(script: &'a Script, out: &mut Vec<&'a Pipeline>) {
    for p in &script.pipelines {
        out.push(p);
        for c in &p.commands {
            collect_pipelines(c, out);
        }
    }
}

fn calls_name(name: &str, command: &Command) -> bool {
    match command {
        Command::Simple { words, .. } => {
            words.first().and_then(|w| w.literal()).as_deref() == Some(name)
        }
        Command::Group { body, .. } => body
            .pipelines
            .iter()
            .any(|p| p.commands.iter().any(|c| calls_name(name, c))),
        Command::Function { .. } => false,
    }
}

/// How a shell (`sh`, `bash`…) was asked to run: where its code or script word is, whether
/// that word is code (`-c`), and whether it reads commands from stdin (`-s`, `-`).
pub struct ShellFlags {
    pub at: usize,
    pub inline: bool,
    pub from_stdin: bool,
}

/// Reads a shell's flags from `args` (the shell's own name first). One reading for the gate
/// and for the rules, so both see the same code.
pub fn shell_flags<S: AsRef<str>>(args: &[S]) -> ShellFlags {
    let (mut i, mut inline, mut from_stdin) = (1, false, false);
    while let Some(a) = args.get(i).map(AsRef::as_ref) {
        if a == "-" || a == "--" {
            from_stdin |= a == "-";
            i += 1;
            break;
        }
        if !(a.starts_with('-') || a.starts_with('+')) || a.len() < 2 {
            break;
        }
        i += 1;
        if a.starts_with("--") {
            i += usize::from(matches!(a, "--rcfile" | "--init-file"));
            continue;
        }
        inline |= a.starts_with('-') && a.contains('c');
        from_stdin |= a.contains('s');
        // `-o OPTION` / `+O OPTION` take the next word.
        i += usize::from(a.ends_with(['o', 'O']));
    }
    ShellFlags {
        at: i,
        inline,
        from_stdin,
    }
}
