//! From configuration to a running [`McpHub`]: read the servers, decide which may start (asking
//! in the REPL for a project's server, see `trust`), give them a filtered environment, and
//! start them in the background. Also `corecoder mcp list`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::McpHub;
use super::server::{Launch, State};
use super::trust::{self, TrustInput, TrustStore, Verdict};
use crate::approval::{Answer, ApprovalRequest, Approver, Request};
use crate::config::ConfigError;
use crate::config::ConfigFiles;
use crate::config::mcp::{self as config, ServerConfig};
use crate::event::{AgentEvent, EventSink};

pub struct Setup<'a> {
    pub files: &'a ConfigFiles,
    pub cwd: &'a Path,
    /// The project root: answers `roots/list`, keys remembered consent.
    pub root: &'a Path,
    pub home: Option<&'a Path>,
    /// The process environment (never a project's `.env`: a repository must not steer what
    /// the user's own server definitions expand to).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Every variable of the process, for the servers' filtered environment.
    pub vars: Vec<(String, String)>,
    /// `[shell_env] keep`: secret-looking names the user lets through anyway.
    pub keep: &'a [String],
    pub project_trusted: bool,
    pub yes: bool,
    /// Present in the REPL on a terminal: a project's new server is asked about.
    pub approver: Option<Arc<dyn Approver>>,
    pub events: EventSink,
}

impl<'a> Setup<'a> {
    /// From the process: its environment, no approver, no trust, notices dropped (the caller
    /// sets what differs).
    pub fn new(
        files: &'a ConfigFiles,
        cwd: &'a Path,
        root: &'a Path,
        home: Option<&'a Path>,
        keep: &'a [String],
    ) -> Setup<'a> {
        Setup {
            files,
            cwd,
            root,
            home,
            env: &|k: &str| std::env::var(k).ok(),
            vars: std::env::vars().collect(),
            keep,
            project_trusted: false,
            yes: false,
            approver: None,
            events: Arc::new(|_| {}),
        }
    }

    /// Whether the user's config trusts the project, and whether `--yes` was given.
    pub fn trusting(self, project_trusted: bool, yes: bool) -> Setup<'a> {
        Setup {
            project_trusted,
            yes,
            ..self
        }
    }
}

/// Reads the servers, settles consent, and starts the allowed ones in the background. `None`
/// when no server is configured.
pub async fn start(setup: Setup<'_>) -> Result<Option<Arc<McpHub>>, ConfigError> {
    // A project's definitions expand only what its servers would see anyway (unless the user
    // trusts the project): the secret filter of the shell, applied to `${VAR}`.
    let hidden = hidden_names(&setup);
    let project_env = |k: &str| {
        let visible = setup.project_trusted || !hidden.iter().any(|h| h == k);
        visible.then(|| (setup.env)(k)).flatten()
    };
    let loaded = config::load(setup.files, setup.cwd, setup.home, setup.env, &project_env)?;
    for notice in &loaded.notices {
        (setup.events)(AgentEvent::Notice(notice.clone()));
    }
    if loaded.servers.is_empty() {
        return Ok(None);
    }
    let user_defined = user_defined(&setup)?;
    let store = setup.home.map(TrustStore::new);
    let mut servers = Vec::new();
    for server in loaded.servers {
        let input = TrustInput {
            user_defined: &user_defined,
            project_trusted: setup.project_trusted,
            remembered: store
                .as_ref()
                .is_some_and(|s| s.allows(setup.root, &server)),
            yes: setup.yes,
            interactive: setup.approver.is_some(),
        };
        let state = match trust::judge(&server, &input) {
            Verdict::Start => State::Starting,
            Verdict::Refuse(why) => {
                (setup.events)(AgentEvent::Notice(why));
                State::NotTrusted
            }
            Verdict::Ask => ask(&setup, store.as_ref(), &server).await,
        };
        servers.push((server, state));
    }
    let hub = McpHub::new(servers, setup.events.clone());
    hub.start(Launch {
        env: filtered_env(setup.vars, setup.keep),
        workspace: setup.root.to_path_buf(),
    });
    Ok(Some(hub))
}

/// The servers the user's own files define (the project's entries left out), to recognise a
/// project entry that runs what the user already runs.
fn user_defined(setup: &Setup) -> Result<Vec<ServerConfig>, ConfigError> {
    let user_layers = setup
        .files
        .layers()
        .iter()
        .filter(|l| !l.project_file)
        .cloned();
    let files = ConfigFiles::new(user_layers.collect());
    // A directory with no `.mcp.json` in it keeps the project's file out.
    let nowhere = setup.home.map_or(Path::new("/nonexistent"), |h| h);
    let loaded = config::load(
        &files,
        &nowhere.join(".corecoder/none"),
        setup.home,
        setup.env,
        setup.env,
    )?;
    Ok(loaded.servers)
}

async fn ask(setup: &Setup<'_>, store: Option<&TrustStore>, server: &ServerConfig) -> State {
    let Some(approver) = &setup.approver else {
        return State::NotTrusted;
    };
    let request = ApprovalRequest {
        request: Request::McpServer {
            name: server.name.clone(),
            target: server.target(),
            origin: server.source.path().to_path_buf(),
        },
        subagent: false,
    };
    match approver.ask(&request).await {
        Answer::Once | Answer::SwitchMode(_) => State::Starting,
        Answer::Always(_) => {
            if let Some(Err(e)) = store.map(|s| s.remember(setup.root, server)) {
                (setup.events)(AgentEvent::Notice(format!(
                    "could not remember the answer for MCP server {}: {e}",
                    server.name
                )));
            }
            State::Starting
        }
        Answer::Deny(_) | Answer::Stop => State::NotTrusted,
    }
}

/// The names of the process's variables the shell does not see.
fn hidden_names(setup: &Setup) -> Vec<String> {
    let names = setup.vars.iter().map(|(k, _)| k.clone());
    crate::tools::bash::hidden_vars(names, setup.keep)
}

/// The process environment less what the shell does not get either (provider keys, names with
/// KEY, SECRET, TOKEN or PASSWORD), keeping what `[shell_env] keep` names. A server's own
/// `env` is added on top by the server itself.
pub fn filtered_env(vars: Vec<(String, String)>, keep: &[String]) -> BTreeMap<String, String> {
    let hidden = crate::tools::bash::hidden_vars(vars.iter().map(|(k, _)| k.clone()), keep);
    vars.into_iter()
        .filter(|(k, _)| !hidden.contains(k))
        .collect()
}

/// `corecoder mcp list`: starts what may start without asking, waits for them (at most the
/// longest startup timeout), and returns the status text.
pub async fn list(setup: Setup<'_>) -> Result<String, ConfigError> {
    let Some(hub) = start(Setup {
        approver: None,
        ..setup
    })
    .await?
    else {
        return Ok(McpHub::new(Vec::new(), Arc::new(|_| {})).status());
    };
    let longest = hub
        .servers()
        .iter()
        .map(|s| s.config.startup_timeout)
        .max()
        .unwrap_or_default();
    hub.settle(longest + Duration::from_secs(1)).await;
    let text = hub.status();
    hub.shutdown().await;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_projects_definition_cannot_expand_a_hidden_variable_unless_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let json = r#"{"mcpServers": {"p": {"command": "x", "args": ["${MY_TOKEN}", "${LANG}"]}}}"#;
        std::fs::write(dir.path().join(".mcp.json"), json).unwrap();
        let files = ConfigFiles::default();
        let env = |k: &str| match k {
            "MY_TOKEN" => Some("s3cret".to_string()),
            "LANG" => Some("C".to_string()),
            _ => None,
        };
        for (trusted, want) in [(false, "x  C"), (true, "x s3cret C")] {
            let setup = Setup {
                env: &env,
                vars: vec![
                    ("MY_TOKEN".into(), "s3cret".into()),
                    ("LANG".into(), "C".into()),
                ],
                ..Setup::new(&files, dir.path(), dir.path(), None, &[])
            }
            .trusting(trusted, false);
            let hub = start(setup).await.unwrap().unwrap();
            assert_eq!(hub.servers()[0].config.target(), want);
            hub.shutdown().await;
        }
    }

    #[test]
    fn servers_get_the_environment_without_secrets() {
        let vars = vec![
            ("PATH".to_string(), "/bin".to_string()),
            ("OPENAI_API_KEY".to_string(), "sk".to_string()),
            ("GITHUB_TOKEN".to_string(), "ghp".to_string()),
            ("MY_PASSWORD".to_string(), "pw".to_string()),
        ];
        let env = filtered_env(vars, &["GITHUB_TOKEN".to_string()]);
        let names: Vec<&str> = env.keys().map(String::as_str).collect();
        assert_eq!(names, ["GITHUB_TOKEN", "PATH"]);
    }
}
