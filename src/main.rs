//! Process entry: parse the command line, build the runtime and the session, run the mode, and
//! map the outcome to an exit code. Everything else lives in the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser};
use corecoder::agent::TurnOutcome;
use corecoder::approval::Approver;
use corecoder::cli::{Cli, Command, Mode, OutputFormat};
use corecoder::config::{self, Config, ConfigError, ConfigFiles};
use corecoder::dispatch::Dispatcher;
use corecoder::error::{Error, exit};
use corecoder::hooks::Hooks;
use corecoder::local;
use corecoder::mcp::setup::Setup;
use corecoder::permissions::Permissions;
use corecoder::render::approval::TerminalApprover;
use corecoder::render::json::{self, RunResult};
use corecoder::render::{self, Renderer, SpinnerHandle};
use corecoder::sandbox::SessionSandbox;
use corecoder::session::SessionStore;
use corecoder::session_run::{Resume, SessionRun, Start};
use corecoder::tools::bash::SpillDir;
use corecoder::undo::{self, Undo};

mod subcommands;

use subcommands::{check_command, mcp_list, sandbox_check, undo_command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = |k: &str| std::env::var(k).ok();
    let color = render::use_color(&env);
    match &cli.command {
        Some(Command::CheckCommand { command }) => return check_command(command),
        Some(Command::SandboxCheck) => return sandbox_check(&cli, color),
        Some(Command::Undo(args)) => return undo_command(args, color),
        Some(Command::Mcp { .. }) => return mcp_list(&cli, color),
        Some(Command::Completions { shell }) => {
            // The completion script is the program's output, written by clap itself.
            #[allow(clippy::disallowed_methods)]
            let mut out = std::io::stdout().lock();
            clap_complete::generate(*shell, &mut Cli::command(), "corecoder", &mut out);
            let _ = out.flush();
            return ExitCode::from(exit::OK);
        }
        None => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            render::error(color, &format!("cannot start the async runtime: {e}"));
            return ExitCode::from(exit::ERROR);
        }
    };
    let code = match run(&cli, color, &runtime) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e @ (Error::Interrupted | Error::Signal(_))) => {
            render::notice(color, &capitalized(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
        Err(e) => {
            render::error(color, &e.to_string());
            ExitCode::from(e.exit_code())
        }
    };
    // A tool stopped mid-call may still hold a blocking thread (a read on a hung file system):
    // dropping the runtime would wait for it forever, so the wait is bounded.
    runtime.shutdown_timeout(Duration::from_millis(250));
    code
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// Resolves when the person or the system asks the run to stop: Ctrl-C (SIGINT), SIGTERM or
/// SIGHUP. Only one-shot runs listen for the last two; in the REPL their default action ends
/// the process (listening would make an idle prompt ignore them).
async fn stop_requested() -> Error {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return Error::Interrupted;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Error::Interrupted,
        _ = term.recv() => Error::Signal("SIGTERM"),
        _ = hup.recv() => Error::Signal("SIGHUP"),
    }
}

fn run(cli: &Cli, color: bool, runtime: &tokio::runtime::Runtime) -> Result<(), Error> {
    let cwd = std::env::current_dir()?;
    let home = home_dir();
    let process = |k: &str| std::env::var(k).ok();
    let dotenv = config::load_dotenv(&cwd, home.as_deref())?;
    let dotenv_vars = dotenv.as_ref().map(|(_, v)| v.clone()).unwrap_or_default();
    let env = config::layer(process, dotenv_vars);
    let files = ConfigFiles::discover(&cwd, home.as_deref())?;
    let mut config = Config::load(&cli.overrides(), &env, &files)?;
    let mode = cli.mode()?;
    find_provider(cli, &mut config, runtime, color)?;
    let (permissions, notices) =
        Permissions::load(&cli.permission_flags(), &files, &cwd, home.as_deref())?;
    let root = permissions.workspace().root.clone();
    let trusted = files.trusts(&root);
    if trusted {
        config.shell_env_keep = files.shell_env_keep(true);
    }
    // Before anything is sent: a project-named server gets no key from outside the project.
    let route = config::route::Route {
        base_url_flag: cli.base_url.is_some(),
        api_key_flag: cli.api_key.is_some(),
        process: &process,
        dotenv: dotenv.as_ref().map(|(p, v)| (p.as_path(), v)),
        files: &files,
        root: &root,
        trusted,
    };
    config::route::check(&route, &config.base_url, config.api_key.is_some())?;
    let sandbox = config::sandbox::resolve(
        &files,
        cli.sandbox.as_deref(),
        // Not from a `.env`: a project's file must not switch the sandbox off.
        process("CORECODER_SANDBOX"),
        trusted,
    )?;
    let hook_settings = config::hooks::resolve(&files, home.as_deref(), trusted)?;
    let checkpoints =
        config::checkpoints::resolve(&files, process("CORECODER_CHECKPOINTS"), trusted)?;
    for line in notices
        .iter()
        .chain(&sandbox.notices)
        .chain(&hook_settings.notices)
        .chain(&checkpoints.notices)
    {
        render::notice(color, line);
    }
    let store = SessionStore::new(
        home.clone()
            .unwrap_or_else(|| cwd.clone())
            .join(".corecoder/sessions"),
    );
    let resume = match (&cli.resume, cli.continue_session) {
        (Some(id), _) => Resume::Id(id.clone()),
        (None, true) => Resume::Latest,
        (None, false) => Resume::Fresh,
    };
    let format = match mode {
        Mode::Repl => OutputFormat::Text,
        Mode::OneShot(_) => cli.output_format,
    };
    let (events, spinner) = match format {
        OutputFormat::Text => Renderer::new(color).into_parts(),
        OutputFormat::Json => (json::silent_sink(), SpinnerHandle::default()),
        OutputFormat::StreamJson => (json::stream_sink(), SpinnerHandle::default()),
    };
    // Only the REPL on a terminal can ask; everything else is headless and fails closed.
    let approver: Option<Arc<dyn Approver>> = match mode {
        Mode::Repl if std::io::stdin().is_terminal() => {
            Some(Arc::new(TerminalApprover::new(color, spinner)))
        }
        _ => None,
    };
    let names = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok());
    let hidden = corecoder::tools::bash::hidden_vars(names, &config.shell_env_keep);
    let secrets = secrets(&config, &hidden);
    // Hooks see the environment the shell sees: none of the hidden variables.
    let hooks = Arc::new(Hooks::new(hook_settings.hooks, hidden, root.clone()));
    let sandbox = Arc::new(SessionSandbox::new(
        sandbox.policy(&root, home.as_deref(), &process),
        sandbox.allow_escalation,
    ));
    let mcp_approver = approver.clone();
    // Checkpoints for undo: pointed at the session once its id is known.
    let undo = Arc::new(Undo::off(
        "undo is off (CORECODER_CHECKPOINTS or [checkpoints])",
    ));
    let checkpoint_store = match (&home, checkpoints.enabled) {
        (Some(home), true) => match undo::open_store(home, checkpoints.limits) {
            Ok(store) => Some((store, root.clone())),
            Err(e) => {
                render::notice(color, &format!("undo is off: {e}"));
                None
            }
        },
        _ => None,
    };
    let dispatcher = Arc::new(
        Dispatcher::new(Arc::new(permissions), approver, secrets)
            .with_sandbox(sandbox)
            .with_undo(undo.clone())
            .with_hooks(hooks),
    );
    // Long `bash` outputs are saved here; the directory goes when `run` returns (the session
    // holds the owner), and what a killed earlier run left is removed now.
    let spill = Arc::new(SpillDir::new(std::env::temp_dir()));
    spill.remove_stale();
    // MCP servers start in the background; the first prompt does not wait for them.
    let setup = Setup::new(&files, &cwd, &root, home.as_deref(), &config.shell_env_keep)
        .trusting(trusted, cli.yes);
    let mcp = runtime.block_on(corecoder::mcp::setup::start(Setup {
        approver: mcp_approver,
        events: events.clone(),
        ..setup
    }))?;
    let start = Start {
        config,
        cwd: cwd.clone(),
        events,
        store,
        resume,
        model_flag: cli.model.is_some(),
        color,
        dispatcher,
        spill,
        undo,
        checkpoints: checkpoint_store,
        mcp: mcp.clone(),
    };
    let mut session = runtime.block_on(async { SessionRun::start(start) })?;
    let outcome = match mode {
        Mode::Repl => {
            let history = home_dir().map(|h| h.join(".corecoder_history"));
            corecoder::repl::run(runtime, &mut session, history)
        }
        Mode::OneShot(prompt) => one_shot(runtime, &mut session, &prompt, format, &cwd),
    };
    if let Some(hub) = mcp {
        runtime.block_on(hub.shutdown());
    }
    outcome
}

/// With no key and no base URL, a local server on 127.0.0.1 (started with `--local-model-script`
/// when none answers); for a loopback server, its real context window. Which ports are probed
/// comes from the process environment only: a project's `.env` does not choose it.
fn find_provider(
    cli: &Cli,
    config: &mut Config,
    runtime: &tokio::runtime::Runtime,
    color: bool,
) -> Result<(), Error> {
    let servers = std::env::var("CORECODER_LOCAL_SERVERS").ok();
    let first = runtime.block_on(local::configure(config, servers.as_deref()));
    let notices = match (first, &cli.local_model_script) {
        (Err(ConfigError::MissingKey { .. }), Some(script)) => {
            render::notice(
                color,
                &format!(
                    "No API key, base URL or local model server: starting the local model with \
                     {} (the first time it downloads the model and builds llama.cpp, about 9 \
                     minutes on 2 cores; afterwards it starts in seconds).",
                    script.display()
                ),
            );
            let port = local::start::run_script(script).map_err(Error::Usage)?;
            let servers = format!("llamacpp={port}");
            runtime.block_on(local::configure(config, Some(&servers)))?
        }
        (result, _) => result?,
    };
    for line in notices {
        render::notice(color, &line);
    }
    Ok(())
}

/// What must never reach the model: the API key, and the value of every variable the shell is
/// not given (`hidden`).
fn secrets(config: &Config, hidden: &[String]) -> Vec<String> {
    hidden
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .chain(config.api_key.clone())
        .collect()
}

/// `$HOME`, or the user database's home when it is unset: the protected paths under home
/// must not vanish with one variable.
fn home_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home));
    }
    // SAFETY: getpwuid returns null or a pointer to a static record valid until the next
    // call; the directory is copied out at once, on this thread, before any other call.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() || (*pw).pw_dir.is_null() {
            return None;
        }
        let dir = std::ffi::CStr::from_ptr((*pw).pw_dir);
        Some(PathBuf::from(
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(dir.to_bytes()),
        ))
    }
}

fn one_shot(
    runtime: &tokio::runtime::Runtime,
    session: &mut SessionRun,
    prompt: &str,
    format: OutputFormat,
    cwd: &std::path::Path,
) -> Result<(), Error> {
    let started = Instant::now();
    if format == OutputFormat::StreamJson {
        let tools = session.agent.tool_names();
        json::init(
            &session.session_id(),
            session.agent.model(),
            &cwd.display().to_string(),
            &tools,
        );
    }
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = session.agent.run_turn(prompt) => outcome.map_err(Error::from),
            stop = stop_requested() => Err(stop),
        }
    });
    runtime.block_on(session.end_turn());
    session.autosave();
    let usage = session.agent.usage();
    if format == OutputFormat::Text {
        render::usage_summary(session.color, &usage, session.agent.model());
        return match outcome? {
            TurnOutcome::Done { .. } => Ok(()),
            TurnOutcome::RoundLimit { rounds } => Err(Error::RoundLimit(rounds)),
            TurnOutcome::Stopped { .. } => Err(Error::Interrupted),
            TurnOutcome::Blocked { reason } => Err(Error::PromptBlocked(reason)),
        };
    }
    let (result, subtype, rounds, error) = match outcome {
        Ok(TurnOutcome::Done { text, rounds }) => (text, "success", rounds, None),
        Ok(TurnOutcome::Stopped { rounds }) => {
            let e = Error::Interrupted;
            (e.to_string(), "interrupted", rounds, Some(e))
        }
        Ok(TurnOutcome::RoundLimit { rounds }) => {
            let e = Error::RoundLimit(rounds);
            (e.to_string(), "round_limit", rounds, Some(e))
        }
        Ok(TurnOutcome::Blocked { reason }) => {
            let e = Error::PromptBlocked(reason);
            (e.to_string(), "blocked", 0, Some(e))
        }
        Err(e) => {
            let subtype = if matches!(e, Error::Interrupted | Error::Signal(_)) {
                "interrupted"
            } else {
                "error"
            };
            (e.to_string(), subtype, 0, Some(e))
        }
    };
    json::result(&RunResult {
        result,
        is_error: error.is_some(),
        subtype,
        rounds,
        usage,
        cost_usd: usage.cost(session.agent.model()),
        session_id: session.session_id(),
        duration_ms: started.elapsed().as_millis(),
        denials: session.dispatcher().denials(),
    });
    match error {
        // The result object already told the caller; only the exit code remains to say it.
        Some(e) => Err(e),
        None => Ok(()),
    }
}
