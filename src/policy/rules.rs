//! Permission rules: `TOOL` or `TOOL(SPECIFIER)`, in Claude Code's syntax, and how one rule
//! matches a tool, a simple shell command or a path. This file owns parsing, aliasing,
//! display and matching; it does not decide which rule wins (that is `decide`).

use std::fmt;
use std::path::{Path, PathBuf};

use globset::GlobBuilder;

use super::workspace::Workspace;

/// One rule. `tool` is canonical after aliasing: a tool name (`bash`, `write_file`,
/// `mcp__srv__tool`, `mcp__srv__*`) or one of the two groups `Read` (every tool that reads)
/// and `Edit` (every tool that edits), which keep their capital so they display as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    pub tool: String,
    pub specifier: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Allow,
    Ask,
    Deny,
}

/// Where a rule came from, so a decision can say which file to edit to change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    CommandLine,
    UserConfig(PathBuf),
    ProjectConfig(PathBuf),
    Saved(PathBuf),
    Session,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleEntry {
    pub kind: RuleKind,
    pub rule: Rule,
    pub source: Source,
}

/// All rules in force, in the order they were added.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    entries: Vec<RuleEntry>,
}

/// The tools each group stands for (Claude Code: Read rules cover every reading tool, Edit
/// rules every editing tool).
const READ_TOOLS: &[&str] = &["read_file", "glob", "grep"];
const EDIT_TOOLS: &[&str] = &["edit_file", "write_file"];

impl Rule {
    /// Parses `TOOL` or `TOOL(SPECIFIER)`; the error says what is wrong in words.
    pub fn parse(text: &str) -> Result<Rule, String> {
        let text = text.trim();
        let (tool, specifier) = match text.find('(') {
            None if text.contains(')') => return Err(format!("unbalanced `)` in rule `{text}`")),
            None => (text, None),
            Some(open) => {
                let inner = text[open + 1..]
                    .strip_suffix(')')
                    .ok_or_else(|| format!("rule `{text}` has `(` without a closing `)`"))?;
                check_balanced(inner, text)?;
                let inner = inner.trim();
                if inner.is_empty() {
                    return Err(format!(
                        "rule `{text}` has an empty specifier; drop the `()`"
                    ));
                }
                (text[..open].trim(), Some(inner.to_string()))
            }
        };
        if tool.is_empty() {
            return Err(format!("rule `{text}` has no tool name before `(`"));
        }
        if let Some(bad) = tool
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '*')))
        {
            return Err(format!(
                "rule `{text}`: `{bad}` is not allowed in a tool name"
            ));
        }
        Ok(Rule {
            tool: canonical_tool(tool),
            specifier,
        })
    }

    /// Whether the rule speaks about calls of `tool` (ignoring the specifier).
    pub fn covers_tool(&self, tool: &str) -> bool {
        match self.tool.as_str() {
            "Read" => READ_TOOLS.contains(&tool),
            "Edit" => EDIT_TOOLS.contains(&tool),
            t if t == tool => true,
            // `mcp__srv__*` and plain `mcp__srv` cover every tool of that server.
            t => {
                let server = match t.strip_suffix("__*") {
                    Some(server) => server,
                    None if t.matches("__").count() == 1 => t,
                    None => return false,
                };
                t.starts_with("mcp__")
                    && tool
                        .strip_prefix(server)
                        .is_some_and(|rest| rest.starts_with("__"))
            }
        }
    }

    /// Whether the rule would cover an edit of a file, whatever tool makes it (a shell
    /// redirect counts as an edit).
    pub fn covers_edits(&self) -> bool {
        self.tool == "Edit" || EDIT_TOOLS.contains(&self.tool.as_str())
    }

    /// For a bash rule: whether one simple command (its words) matches. A prefix rule
    /// (`git log:*`, `git log *`) needs a word boundary, so `cargo test:*` is not `cargo testing`.
    pub fn matches_command(&self, words: &[String]) -> bool {
        let Some(spec) = &self.specifier else {
            return true;
        };
        let command = normalize_space(&words.join(" "));
        let spec = normalize_space(spec);
        if spec == "*" {
            return true;
        }
        match spec.strip_suffix(":*").or_else(|| spec.strip_suffix(" *")) {
            Some(prefix) => {
                let prefix = prefix.trim_end();
                command == prefix
                    || command
                        .strip_prefix(prefix)
                        .is_some_and(|rest| rest.starts_with(' '))
            }
            None => command == spec,
        }
    }

    /// For a file rule: whether a resolved path matches the gitignore-style glob, itself or
    /// through an ancestor (`src/` covers `src/a/b.rs`). No specifier matches every path.
    pub fn matches_path(&self, path: &Path, workspace: &Workspace) -> bool {
        let Some(spec) = &self.specifier else {
            return true;
        };
        let Some(pattern) = absolute_glob(spec, workspace) else {
            return false;
        };
        // Most rules name a directory or a file literally (`src/**`, `~/.bashrc`): compare paths
        // rather than compile a glob per decision (compiling was ~90 % of a decision's time).
        let literal = |p: &str| !p.contains(['*', '?', '[', ']', '{', '}', '\\']);
        if let Some(dir) = pattern.strip_suffix("/**").filter(|d| literal(d)) {
            return path.starts_with(dir);
        }
        if literal(&pattern) {
            return path.starts_with(&pattern);
        }
        // `dir/**` also stands for `dir` itself: grepping `~/.ssh` reads what `~/.ssh/**` names.
        let whole = pattern.strip_suffix("/**").map(str::to_string);
        let matchers: Vec<_> = std::iter::once(pattern)
            .chain(whole)
            .filter_map(|p| GlobBuilder::new(&p).literal_separator(true).build().ok())
            .map(|g| g.compile_matcher())
            .collect();
        path.ancestors()
            .any(|a| matchers.iter().any(|m| m.is_match(a)))
    }

    /// The fixed directory or file a path rule starts from: its glob up to the first glob
    /// character (`~/.ssh/**` → `~/.ssh`, `src/*.rs` → `<root>/src`), resolved.
    pub fn literal_root(&self, workspace: &Workspace) -> Option<PathBuf> {
        let pattern = absolute_glob(self.specifier.as_ref()?, workspace)?;
        let literal = pattern
            .find(['*', '?', '[', '{'])
            .map_or(pattern.as_str(), |at| &pattern[..at]);
        let literal = literal.trim_end_matches('/');
        Some(PathBuf::from(if literal.is_empty() {
            "/"
        } else {
            literal
        }))
    }

    /// Whether this rule opens the hard floor for `path` (a resolved protected path): it must
    /// match the path and name the protected place itself. Its literal part must lie inside
    /// the protected entry, so `write_file(~/.bashrc)` and `Edit(~/.ssh/**)` open it while
    /// `Edit(~/**)` or `Edit(**)`, written for everything, do not.
    pub fn opens_floor(&self, path: &Path, workspace: &Workspace) -> bool {
        let (Some(root), Some(protected)) =
            (self.literal_root(workspace), workspace.protected_root(path))
        else {
            return false;
        };
        root.starts_with(&protected) && self.matches_path(path, workspace)
    }
}

/// Claude Code's names and ours, in any case, to one spelling.
fn canonical_tool(tool: &str) -> String {
    let canonical = match tool.to_ascii_lowercase().as_str() {
        "bash" => "bash",
        "read" => "Read",
        "edit" => "Edit",
        "write" | "write_file" => "write_file",
        "read_file" => "read_file",
        "edit_file" => "edit_file",
        "glob" => "glob",
        "grep" => "grep",
        "task" | "agent" => "agent",
        // MCP and future tool names are case-sensitive: keep them as written.
        _ => return tool.to_string(),
    };
    canonical.to_string()
}

fn check_balanced(inner: &str, text: &str) -> Result<(), String> {
    let mut depth = 0i32;
    for c in inner.chars() {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        if depth < 0 {
            return Err(format!("unbalanced `)` in rule `{text}`"));
        }
    }
    if depth != 0 {
        return Err(format!("unbalanced `(` in rule `{text}`"));
    }
    Ok(())
}

fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Anchors a rule glob: `~/x` under home, `/x` and `//x` absolute, anything else under the
/// project root, at any depth when it has no inner `/` (gitignore). `None` when it needs a
/// home we do not know.
fn absolute_glob(spec: &str, workspace: &Workspace) -> Option<String> {
    let escape = |p: &Path| globset::escape(&p.to_string_lossy());
    // A trailing `/` means "this directory"; the ancestor match gives its contents.
    let spec = match spec.trim_end_matches('/') {
        "" => "/",
        s => s,
    };
    if spec == "~" || spec.starts_with("~/") {
        let home = escape(workspace.home.as_ref()?);
        return Some(format!("{home}{}", &spec[1..]));
    }
    if let Some(rest) = spec.strip_prefix("//") {
        return Some(format!("/{rest}"));
    }
    if spec.starts_with('/') {
        return Some(spec.to_string());
    }
    let root = escape(&workspace.root);
    // `./x` is anchored at the root even without an inner `/` (how suggestions name a
    // root-level file without matching every file of that name below).
    if let Some(rest) = spec.strip_prefix("./") {
        return Some(format!("{root}/{rest}"));
    }
    Some(if spec.contains('/') {
        format!("{root}/{spec}")
    } else {
        format!("{root}/**/{spec}")
    })
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.specifier {
            Some(spec) => write!(f, "{}({spec})", self.tool),
            None => f.write_str(&self.tool),
        }
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleKind::Allow => "allow",
            RuleKind::Ask => "ask",
            RuleKind::Deny => "deny",
        })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::CommandLine => f.write_str("--allow/--deny"),
            Source::UserConfig(p) | Source::ProjectConfig(p) | Source::Saved(p) => {
                write!(f, "{}", p.display())
            }
            Source::Session => f.write_str("this session"),
        }
    }
}

impl Rules {
    /// Adds a rule; the same kind and rule twice is kept once (the first source wins).
    pub fn add(&mut self, kind: RuleKind, rule: Rule, source: Source) {
        if !self
            .entries
            .iter()
            .any(|e| e.kind == kind && e.rule == rule)
        {
            self.entries.push(RuleEntry { kind, rule, source });
        }
    }

    pub fn entries(&self) -> &[RuleEntry] {
        &self.entries
    }

    pub fn remove(&mut self, index: usize) -> Option<RuleEntry> {
        (index < self.entries.len()).then(|| self.entries.remove(index))
    }

    /// The first rule of `kind` for which `hit` holds.
    pub(crate) fn find(&self, kind: RuleKind, hit: impl Fn(&Rule) -> bool) -> Option<&RuleEntry> {
        self.entries.iter().find(|e| e.kind == kind && hit(&e.rule))
    }
}
