//! A plain line-based interactive loop: one line is one message, Ctrl-C cancels the running
//! turn (the history stays valid), Ctrl-D or `quit` exits.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::BufRead;

use crate::agent::{Agent, TurnOutcome};
use crate::error::Error;
use crate::render;

pub async fn run(agent: &mut Agent, color: bool) -> Result<(), Error> {
    render::notice(
        color,
        &format!(
            "corecoder {} · model {} · Ctrl-C cancels a turn, Ctrl-D or `quit` exits",
            env!("CARGO_PKG_VERSION"),
            agent.model()
        ),
    );
    loop {
        render::prompt("You > ");
        let line = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map(|n| (n, line))
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))??;
        let (read, line) = line;
        if read == 0 {
            render::prompt("\n");
            return Ok(());
        }
        let input = line.trim();
        match input {
            "" => continue,
            "quit" | "exit" | "/quit" | "/exit" => return Ok(()),
            _ if input.starts_with('/') => {
                render::notice(color, &format!("unknown command: {input}"));
                continue;
            }
            _ => {}
        }
        tokio::select! {
            outcome = agent.run_turn(input) => match outcome {
                Ok(TurnOutcome::Done { .. }) => {}
                Ok(TurnOutcome::RoundLimit { rounds }) => render::error(color, &Error::RoundLimit(rounds).to_string()),
                Err(e) => render::error(color, &e.to_string()),
            },
            _ = tokio::signal::ctrl_c() => render::notice(color, "\nInterrupted"),
        }
        render::usage_summary(color, &agent.usage(), agent.model());
    }
}
