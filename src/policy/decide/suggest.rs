//! What an "always" answer to a shell command would allow: one prefix rule per simple
//! command not yet allowed (`bash(cargo test:*)`), plus an edit rule per write outside the
//! workspace. Never one rule for a whole compound command.

use super::super::rules::Rule;
use super::super::split;
use super::exec::{Outside, Sub};
use super::{PolicyInput, path_rules};

/// Tools whose second word is a subcommand: an "always" for `cargo test` should not also
/// allow `cargo publish`.
const SUBCOMMAND_TOOLS: &[&str] = &[
    "git",
    "cargo",
    "npm",
    "pnpm",
    "yarn",
    "bun",
    "deno",
    "npx",
    "go",
    "pip",
    "pip3",
    "uv",
    "poetry",
    "pipenv",
    "conda",
    "docker",
    "podman",
    "kubectl",
    "helm",
    "gh",
    "make",
    "just",
    "rustup",
    "dotnet",
    "mvn",
    "gradle",
    "apt",
    "apt-get",
    "brew",
    "systemctl",
    "terraform",
    "bundle",
    "rake",
    "rails",
    "mix",
    "stack",
    "cabal",
    "swift",
    "composer",
    "nix",
];

/// One prefix rule per command not yet allowed, plus an edit rule per outside write. Empty
/// when a command's name or a write's target is only known at run time: "always" would then
/// promise something no rule can express.
pub(super) fn suggestions(open: &[&Sub], outside: &Outside, input: &PolicyInput) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    for s in open {
        if s.words.is_empty() {
            rules.extend(path_rules("Edit", &s.known, input.workspace));
            continue;
        }
        let Some(rule) = prefix_rule(&s.words) else {
            return Vec::new();
        };
        rules.push(rule);
    }
    if outside.any_unknown {
        return Vec::new();
    }
    rules.extend(path_rules("Edit", &outside.paths, input.workspace));
    let mut unique: Vec<Rule> = Vec::new();
    for rule in rules {
        if !unique.contains(&rule) {
            unique.push(rule);
        }
    }
    unique
}

/// `bash(cargo test:*)` for `cargo test --release`, `bash(ls:*)` for `ls -la`: the second
/// word joins the prefix only for tools whose second word names a subcommand (`git`, `cargo`,
/// `npm` …), so `rm build` suggests `bash(rm:*)`, not a rule for that one file.
fn prefix_rule(words: &[String]) -> Option<Rule> {
    // Assignments that stayed part of the command (`FOO=1 cargo test`) stay in its rule.
    let env = words.iter().take_while(|w| w.contains('=')).count();
    let (assigned, words) = words.split_at(env);
    let first = words.first()?;
    if first.is_empty() || first.contains(['$', '`', '…', '(', ')']) {
        return None;
    }
    let name = first.rsplit('/').next().unwrap_or(first);
    let subcommand = words.get(1).filter(|w| {
        (SUBCOMMAND_TOOLS.contains(&name) || split::PRIVILEGED.contains(&name))
            && w.starts_with(|c: char| c.is_ascii_alphanumeric())
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    let mut prefix: Vec<&str> = assigned.iter().map(String::as_str).collect();
    prefix.push(first);
    prefix.extend(subcommand.map(String::as_str));
    Some(Rule {
        tool: "bash".to_string(),
        specifier: Some(format!("{}:*", prefix.join(" "))),
    })
}
