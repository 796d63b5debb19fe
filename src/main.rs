//! Process entry: parse the command line, build the runtime and the agent, run the mode, and
//! map the outcome to an exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use corecoder::agent::TurnOutcome;
use corecoder::cli::{Cli, Mode};
use corecoder::config::{self, Config};
use corecoder::error::{Error, exit};
use corecoder::render::{self, Renderer};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = |k: &str| std::env::var(k).ok();
    let color = render::use_color(&env);
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
    match runtime.block_on(run(cli, color)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(Error::Interrupted) => {
            render::notice(color, "Interrupted");
            ExitCode::from(exit::INTERRUPTED)
        }
        Err(e) => {
            render::error(color, &e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli, color: bool) -> Result<(), Error> {
    let cwd = std::env::current_dir()?;
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let env = config::layered_env(|k| std::env::var(k).ok(), &cwd, home.as_deref())?;
    let config = Config::load(&cli.overrides(), &env)?;
    let mode = cli.mode()?;
    let mut agent = corecoder::build_agent(&config, cwd, Renderer::new(color).into_sink())?;
    match mode {
        Mode::Repl => corecoder::repl::run(&mut agent, color).await,
        Mode::OneShot(prompt) => {
            let outcome = tokio::select! {
                outcome = agent.run_turn(&prompt) => outcome,
                _ = tokio::signal::ctrl_c() => Err(Error::Interrupted)?,
            };
            render::usage_summary(color, &agent.usage(), agent.model());
            match outcome? {
                TurnOutcome::Done { .. } => Ok(()),
                TurnOutcome::RoundLimit { rounds } => Err(Error::RoundLimit(rounds)),
            }
        }
    }
}
