//! The command word as bash would see it after expansion: split on `$IFS` and blanks,
//! braces expanded, and a glob (`/???/?m`) read as the dangerous program it matches.

use super::basename;
use super::flow::Arg;

/// Programs a glob in the command word (`/???/?m`, `/bin/r[m]`) is most likely aimed at.
const GLOB_TARGETS: &[&str] = &[
    "rm", "dd", "sh", "bash", "mkfs", "shred", "chmod", "chown", "curl", "wget", "nc", "python3",
    "perl", "base64", "reboot", "kill", "crontab", "iptables",
];

/// Bash expands a glob in the command word against the file system: `/???/?m -rf /` runs
/// `/bin/rm`. Without looking at the disk, the word is read as the dangerous program it
/// matches, if any.
pub(super) fn glob_command_name(word: &mut String) {
    let name = basename(word);
    if !name.contains(['?', '*', '[']) || name.chars().all(|c| c == '*') {
        return;
    }
    if let Some(target) = GLOB_TARGETS.iter().find(|t| glob_match(name, t)) {
        *word = (*target).to_string();
    }
}

/// Shell glob matching of `?`, `*` and `[…]` against a name.
fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| go(&p[1..], &n[k..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') => match (p.iter().position(|c| *c == ']'), n.first()) {
                (Some(end), Some(c)) if end > 1 => {
                    let set = &p[1..end];
                    let negate = matches!(set.first(), Some('!' | '^'));
                    let set = if negate { &set[1..] } else { set };
                    let mut hit = false;
                    let mut k = 0;
                    while k < set.len() {
                        if k + 2 < set.len() && set[k + 1] == '-' {
                            hit |= (set[k]..=set[k + 2]).contains(c);
                            k += 3;
                        } else {
                            hit |= set[k] == *c;
                            k += 1;
                        }
                    }
                    hit != negate && go(&p[end + 1..], &n[1..])
                }
                _ => false,
            },
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    p.len() <= 64 && go(&p, &n)
}

/// Bash splits an unquoted expansion into words and expands braces: a command word such as
/// `$(echo rm -rf /)`, `rm${IFS}-rf${IFS}/` or `{rm,-rf,/}` is several words. Quoting is
/// gone by now, so a quoted command word with a space is split too (bash would not find
/// such a program anyway).
pub(super) fn split_command_word(args: &mut Vec<Arg>, ifs: &str) {
    let Some(first) = args.first() else {
        return;
    };
    let words: Vec<String> = if first.text.starts_with('{') && first.text.contains(',') {
        crate::policy::split::expand_words(vec![first.text.clone()])
            .unwrap_or_default()
            .into_iter()
            .filter(|w| !w.is_empty())
            .collect()
    } else if first
        .text
        .contains(|c: char| c.is_whitespace() || ifs.contains(c))
    {
        // `IFS=,; cmd=rm,-rf,/; $cmd` splits on the commas.
        first
            .text
            .split(|c: char| c.is_whitespace() || ifs.contains(c))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    } else {
        return;
    };
    if words.len() == 1 && words[0] == first.text {
        return;
    }
    let flow = first.flow.clone();
    let split = words.iter().map(|w| Arg::tainted(w, &flow));
    args.splice(..1, split);
}
