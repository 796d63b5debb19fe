//! The subcommands that do something other than run the agent: `sandbox-check`, `undo`,
//! `check-command`, `mcp list`. None needs an API key.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use corecoder::cli::Cli;
use corecoder::config::{self, ConfigFiles};
use corecoder::error::{Error, exit};
use corecoder::mcp::setup::Setup;
use corecoder::policy::command_safety::{self, Verdict};
use corecoder::render;
use corecoder::sandbox::Prepared;
use corecoder::session::SessionStore;

use super::home_dir;

/// `corecoder sandbox-check`: the sandbox this directory's sessions would get, applied in a
/// child and probed. Needs no API key.
pub(super) fn sandbox_check(cli: &Cli, color: bool) -> ExitCode {
    let report = || -> Result<(bool, String), String> {
        let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
        let home = home_dir();
        let files = ConfigFiles::discover(&cwd, home.as_deref()).map_err(|e| e.to_string())?;
        let root = corecoder::permissions::project_root(&cwd);
        let trusted = files.trusts(&root);
        let from_env = std::env::var("CORECODER_SANDBOX").ok();
        let settings = config::sandbox::resolve(&files, cli.sandbox.as_deref(), from_env, trusted)
            .map_err(|e| e.to_string())?;
        let process = |k: &str| std::env::var(k).ok();
        let policy = settings.policy(&root, home.as_deref(), &process);
        let prepared = Prepared::new(&policy).map_err(|e| e.to_string())?;
        let test = corecoder::sandbox::check(&prepared, home.as_deref())
            .map_err(|e| format!("the self-test could not run: {e}"))?;
        Ok((test.passed(), test.to_string()))
    };
    match report() {
        Ok((passed, text)) => {
            render::plain(&text);
            ExitCode::from(if passed { exit::OK } else { exit::ERROR })
        }
        Err(e) => {
            render::error(color, &e);
            ExitCode::from(exit::ERROR)
        }
    }
}

/// `corecoder undo`: see `corecoder::undo::command`. Needs no API key.
pub(super) fn undo_command(args: &corecoder::cli::UndoArgs, color: bool) -> ExitCode {
    let outcome = || -> Result<u8, String> {
        let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
        let home = home_dir().ok_or("no home directory: the checkpoint store lives there")?;
        let files = ConfigFiles::discover(&cwd, Some(&home)).map_err(|e| e.to_string())?;
        let workspace = corecoder::permissions::project_root(&cwd);
        let settings = config::checkpoints::resolve(
            &files,
            std::env::var("CORECODER_CHECKPOINTS").ok(),
            files.trusts(&workspace),
        )
        .map_err(|e| e.to_string())?;
        let sessions = SessionStore::new(home.join(".corecoder/sessions"));
        let ask = |question: &str| {
            render::prompt(question);
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).is_ok()
                && matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
        };
        let terminal = std::io::stdin().is_terminal();
        corecoder::undo::command::run(&corecoder::undo::command::UndoCommand {
            args,
            workspace: &workspace,
            home: &home,
            limits: settings.limits,
            sessions: &sessions,
            color,
            ask: terminal.then_some(&ask as &dyn Fn(&str) -> bool),
        })
    };
    match outcome() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            render::error(color, &e);
            ExitCode::from(exit::ERROR)
        }
    }
}

/// `corecoder check-command CMD`: what the dangerous-command gate does with CMD.
pub(super) fn check_command(command: &str) -> ExitCode {
    match command_safety::check(command) {
        Verdict::Allowed => {
            render::plain("allowed\n");
            ExitCode::from(exit::OK)
        }
        Verdict::Blocked(reason) => {
            render::plain(&format!("blocked: {reason}\n"));
            ExitCode::from(exit::ERROR)
        }
    }
}

/// `corecoder mcp list`: needs no API key; starts only what may start without asking.
pub(super) fn mcp_list(cli: &Cli, color: bool) -> ExitCode {
    let report = || -> Result<String, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let cwd = std::env::current_dir()?;
        let home = home_dir();
        let files = ConfigFiles::discover(&cwd, home.as_deref())?;
        let root = corecoder::permissions::project_root(&cwd);
        let trusted = files.trusts(&root);
        let keep = files.shell_env_keep(trusted);
        let setup =
            Setup::new(&files, &cwd, &root, home.as_deref(), &keep).trusting(trusted, cli.yes);
        let text = runtime.block_on(corecoder::mcp::setup::list(Setup {
            events: Arc::new(move |e| {
                if let corecoder::event::AgentEvent::Notice(n) = e {
                    render::notice(color, &n);
                }
            }),
            ..setup
        }))?;
        Ok(text)
    };
    match report() {
        Ok(text) => {
            render::plain(&text);
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            render::error(color, &e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}
