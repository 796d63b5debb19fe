//! Whether a configured server may start. A server from the user's own files starts; one from
//! the project's files (`.corecoder.toml`, `.mcp.json`) runs a command the repository chose, so
//! it starts only when:
//!
//! - the user's own file trusts the project (`[projects."/path"] trust_level = "trusted"`), or
//! - the user's own config defines a server of that name that runs the same thing (the same
//!   command and arguments, or URL: a project cannot reuse a trusted name for another command), or
//! - the person allowed it before, for this project, with this exact definition (remembered in
//!   `~/.corecoder/mcp-trust.json`; a changed command asks again), or
//! - headless with `--yes`.
//!
//! Otherwise the REPL asks (yes once, always, or no) and a headless run leaves it off with a
//! notice. Pure except for the remembered answers' file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::mcp::{ServerConfig, Transport};

/// What to do with one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Start,
    /// Ask the person (REPL only).
    Ask,
    /// Leave it off; the sentence says how to allow it.
    Refuse(String),
}

/// What the decision needs to know besides the server.
pub struct TrustInput<'a> {
    /// Servers defined in the user's own files (before precedence took the project's).
    pub user_defined: &'a [ServerConfig],
    /// The user's file trusts the project.
    pub project_trusted: bool,
    /// The person allowed this definition before, in this project.
    pub remembered: bool,
    /// `--yes` on the command line.
    pub yes: bool,
    /// A person can be asked (the REPL on a terminal).
    pub interactive: bool,
}

pub fn judge(server: &ServerConfig, input: &TrustInput) -> Verdict {
    if !server.source.is_project() || input.project_trusted || input.remembered || input.yes {
        return Verdict::Start;
    }
    let same =
        |u: &ServerConfig| u.name == server.name && same_target(&u.transport, &server.transport);
    if input.user_defined.iter().any(same) {
        return Verdict::Start;
    }
    if input.interactive {
        return Verdict::Ask;
    }
    Verdict::Refuse(format!(
        "MCP server {} from {} was not started: a project's server runs a command the \
         repository chose. Pass --yes, start corecoder interactively once to allow it, or trust \
         the project in ~/.config/corecoder/config.toml",
        server.name,
        server.source.path().display()
    ))
}

fn same_target(a: &Transport, b: &Transport) -> bool {
    match (a, b) {
        (
            Transport::Stdio {
                command: c1,
                args: a1,
                ..
            },
            Transport::Stdio {
                command: c2,
                args: a2,
                ..
            },
        ) => c1 == c2 && a1 == a2,
        (Transport::Http { url: u1, .. }, Transport::Http { url: u2, .. }) => u1 == u2,
        _ => false,
    }
}

/// A digest of everything a definition runs or reaches (command, arguments, environment,
/// directory, URL, headers): a change to any of them asks again.
pub fn fingerprint(server: &ServerConfig) -> String {
    let text = format!("{}\u{0}{:?}", server.name, server.transport);
    blake3::hash(text.as_bytes()).to_hex()[..32].to_string()
}

/// The answers "always" gave: project root → server name → fingerprint.
pub struct TrustStore {
    path: PathBuf,
}

type Remembered = BTreeMap<String, BTreeMap<String, String>>;

impl TrustStore {
    pub fn new(home: &Path) -> TrustStore {
        TrustStore {
            path: home.join(".corecoder/mcp-trust.json"),
        }
    }

    fn read(&self) -> Remembered {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    pub fn allows(&self, root: &Path, server: &ServerConfig) -> bool {
        let all = self.read();
        let key = root.display().to_string();
        all.get(&key)
            .and_then(|servers| servers.get(&server.name))
            .is_some_and(|f| *f == fingerprint(server))
    }

    pub fn remember(&self, root: &Path, server: &ServerConfig) -> std::io::Result<()> {
        let mut all = self.read();
        all.entry(root.display().to_string())
            .or_default()
            .insert(server.name.clone(), fingerprint(server));
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string_pretty(&all).map_err(std::io::Error::other)?;
        crate::durable::replace(&self.path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::mcp::{DEFAULT_STARTUP_TIMEOUT, DEFAULT_TOOL_TIMEOUT, ServerSource};

    fn server(name: &str, command: &str, project: bool) -> ServerConfig {
        let path = PathBuf::from("/p/.mcp.json");
        ServerConfig {
            name: name.into(),
            transport: Transport::Stdio {
                command: command.into(),
                args: vec![],
                env: BTreeMap::new(),
                cwd: None,
            },
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            tool_timeout: DEFAULT_TOOL_TIMEOUT,
            enabled_tools: None,
            disabled_tools: vec![],
            source: if project {
                ServerSource::Project(path)
            } else {
                ServerSource::User(path)
            },
        }
    }

    fn input(user: &[ServerConfig]) -> TrustInput<'_> {
        TrustInput {
            user_defined: user,
            project_trusted: false,
            remembered: false,
            yes: false,
            interactive: false,
        }
    }

    #[test]
    fn a_projects_server_needs_consent_and_a_users_does_not() {
        let mine = server("gh", "gh-mcp", false);
        assert_eq!(judge(&mine, &input(&[])), Verdict::Start);
        let theirs = server("gh", "evil", true);
        assert!(matches!(judge(&theirs, &input(&[])), Verdict::Refuse(r) if r.contains("--yes")));
        // The same name in the user's config does not vouch for another command.
        assert!(matches!(
            judge(&theirs, &input(std::slice::from_ref(&mine))),
            Verdict::Refuse(_)
        ));
        let same = server("gh", "gh-mcp", true);
        assert_eq!(judge(&same, &input(&[mine])), Verdict::Start);
        assert_eq!(
            judge(
                &theirs,
                &TrustInput {
                    yes: true,
                    ..input(&[])
                }
            ),
            Verdict::Start
        );
        assert_eq!(
            judge(
                &theirs,
                &TrustInput {
                    interactive: true,
                    ..input(&[])
                }
            ),
            Verdict::Ask
        );
        let trusted = TrustInput {
            project_trusted: true,
            ..input(&[])
        };
        assert_eq!(judge(&theirs, &trusted), Verdict::Start);
    }

    #[test]
    fn remembered_consent_holds_for_the_same_definition_only() {
        let home = tempfile::tempdir().unwrap();
        let store = TrustStore::new(home.path());
        let root = Path::new("/work/p");
        let s = server("x", "run-x", true);
        assert!(!store.allows(root, &s));
        store.remember(root, &s).unwrap();
        assert!(store.allows(root, &s));
        assert!(!store.allows(Path::new("/work/other"), &s));
        assert!(!store.allows(root, &server("x", "run-y", true)));
    }
}
