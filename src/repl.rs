//! The interactive loop (rustyline): read a message or a slash command, run the turn, repeat.
//!
//! Enter sends; Alt-Enter, Esc-Enter and Ctrl-J insert a newline; pasted text arrives whole
//! (bracketed paste). Ctrl-C while a turn runs cancels it (the agent's history stays valid);
//! Ctrl-C clears a typed line, and at an empty prompt a second Ctrl-C within 2 s leaves, as does
//! Ctrl-D. Shift-Tab cycles the permission mode (default → acceptEdits → plan), shown in the
//! prompt when it is not `default`. The editor runs on this thread; each turn runs on the
//! runtime.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{
    Cmd, ConditionalEventHandler, Context, Editor, Event, EventContext, EventHandler, Helper,
    KeyCode, KeyEvent, Modifiers, Movement, RepeatCount,
};

use crate::agent::TurnOutcome;
use crate::error::Error;
use crate::policy::Mode;
use crate::render;
use crate::session_run::SessionRun;
use crate::slash::{self, SlashCommand};

/// Tab completion of slash commands.
struct SlashHelper;

impl Completer for SlashHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let typed = &line[..pos];
        Ok((
            0,
            slash::complete(typed)
                .into_iter()
                .map(str::to_string)
                .collect(),
        ))
    }
}

impl Hinter for SlashHelper {
    type Hint = String;
}
impl Highlighter for SlashHelper {}
impl Validator for SlashHelper {}
impl Helper for SlashHelper {}

/// Ctrl-C clears a typed line; only at an empty prompt does it reach us as an interrupt.
struct ClearOrInterrupt;

impl ConditionalEventHandler for ClearOrInterrupt {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
        if ctx.line().is_empty() {
            Some(Cmd::Interrupt)
        } else {
            Some(Cmd::Kill(Movement::WholeBuffer))
        }
    }
}

/// Shift-Tab: ends the line edit with a flag set, so the loop can switch the permission mode
/// and give the typed text back in a prompt that shows the new mode.
struct CycleMode(Arc<AtomicBool>);

impl ConditionalEventHandler for CycleMode {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, _: &EventContext) -> Option<Cmd> {
        self.0.store(true, Ordering::SeqCst);
        Some(Cmd::AcceptLine)
    }
}

/// Esc Esc at an empty prompt: ends the line edit with a flag set, so the loop can list the
/// turns that can be undone (Claude Code's gesture). The editor reads a lone Esc as the start
/// of a key sequence and delivers Esc Esc as one Esc key, so that key is the gesture; with
/// text typed, Esc keeps its usual meaning.
struct EscEsc(Arc<AtomicBool>);

impl ConditionalEventHandler for EscEsc {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
        if !ctx.line().is_empty() {
            return None;
        }
        self.0.store(true, Ordering::SeqCst);
        Some(Cmd::AcceptLine)
    }
}

/// `You > `, with the permission mode in front when it is not `default`.
fn prompt(mode: Mode) -> String {
    match mode {
        Mode::Default => "You > ".to_string(),
        other => format!("[{other}] You > "),
    }
}

fn editor(
    cycle: &Arc<AtomicBool>,
    rewind: &Arc<AtomicBool>,
) -> Result<Editor<SlashHelper, FileHistory>, Error> {
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .bracketed_paste(true)
        .build();
    let mut rl = Editor::with_config(config).map_err(|e| Error::Io(std::io::Error::other(e)))?;
    rl.set_helper(Some(SlashHelper));
    for key in [
        KeyEvent(KeyCode::Enter, Modifiers::ALT),
        KeyEvent::ctrl('J'),
    ] {
        rl.bind_sequence(key, EventHandler::Simple(Cmd::Newline));
    }
    rl.bind_sequence(
        KeyEvent::ctrl('C'),
        EventHandler::Conditional(Box::new(ClearOrInterrupt)),
    );
    rl.bind_sequence(
        KeyEvent(KeyCode::BackTab, Modifiers::NONE),
        EventHandler::Conditional(Box::new(CycleMode(cycle.clone()))),
    );
    rl.bind_sequence(
        KeyEvent(KeyCode::Esc, Modifiers::NONE),
        EventHandler::Conditional(Box::new(EscEsc(rewind.clone()))),
    );
    Ok(rl)
}

/// Runs the loop until the person leaves.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    run: &mut SessionRun,
    history: Option<PathBuf>,
) -> Result<(), Error> {
    let cycle = Arc::new(AtomicBool::new(false));
    let rewind = Arc::new(AtomicBool::new(false));
    let mut rl = editor(&cycle, &rewind)?;
    if let Some(path) = &history {
        let _ = rl.load_history(path);
    }
    let color = run.color;
    render::banner(color, &run.banner());
    run.undo_notices();
    let mut last_interrupt: Option<Instant> = None;
    let mut typed = String::new();
    loop {
        // Set only while a line is edited: an Esc Esc or Shift-Tab at one of undo's questions
        // must not act on the next prompt.
        rewind.store(false, Ordering::SeqCst);
        cycle.store(false, Ordering::SeqCst);
        let mode = run.dispatcher().mode();
        let read = rl.readline_with_initial(&prompt(mode), (&std::mem::take(&mut typed), ""));
        let line = match read {
            Ok(line) if cycle.swap(false, Ordering::SeqCst) => {
                run.set_mode(mode.next());
                typed = line;
                continue;
            }
            Ok(_) if rewind.swap(false, Ordering::SeqCst) => {
                if let Some(prompt) = choose_and_undo(run, &mut rl) {
                    typed = prompt;
                }
                continue;
            }
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                if last_interrupt.is_some_and(|t| t.elapsed() < Duration::from_secs(2)) {
                    return Ok(());
                }
                last_interrupt = Some(Instant::now());
                render::notice(color, "(press Ctrl-C again to leave, or Ctrl-D)");
                continue;
            }
            Err(ReadlineError::Eof) => return Ok(()),
            Err(e) => return Err(Error::Io(std::io::Error::other(e))),
        };
        last_interrupt = None;
        let input = line.trim();
        if input.is_empty() {
            continue;
        }
        let _ = rl.add_history_entry(input);
        if let Some(path) = &history {
            let _ = rl.append_history(path);
        }
        match slash::parse(input) {
            Some(Ok(SlashCommand::Quit)) => return Ok(()),
            Some(Ok(SlashCommand::Undo(turns))) => {
                if let Some(prompt) = undo(run, &mut rl, turns) {
                    typed = prompt;
                }
            }
            Some(Ok(cmd)) => runtime.block_on(run.command(cmd)),
            Some(Err(msg)) => render::notice(color, msg.as_str()),
            None => turn(runtime, run, input),
        }
    }
}

/// One turn, cancellable with Ctrl-C; the outcome is reported, never fatal to the loop.
fn turn(runtime: &tokio::runtime::Runtime, run: &mut SessionRun, input: &str) {
    let color = run.color;
    let before = run.agent.usage();
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = run.agent.run_turn(input) => Some(outcome),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    match outcome {
        None | Some(Ok(TurnOutcome::Stopped { .. })) => render::notice(color, "Interrupted"),
        Some(Ok(TurnOutcome::Done { .. })) => {}
        Some(Ok(TurnOutcome::RoundLimit { rounds })) => {
            render::error(color, &Error::RoundLimit(rounds).to_string());
        }
        Some(Ok(TurnOutcome::Blocked { reason })) => {
            render::error(color, &Error::PromptBlocked(reason).to_string());
        }
        Some(Err(e)) => render::error(color, &e.to_string()),
    }
    runtime.block_on(run.end_turn());
    run.autosave();
    render::turn_usage(color, &before, &run.agent.usage(), run.agent.model());
}

/// Esc Esc: the list, then which turn to go back to.
fn choose_and_undo(
    run: &mut SessionRun,
    rl: &mut Editor<SlashHelper, FileHistory>,
) -> Option<String> {
    let (list, count) = match run.checkpoints_text() {
        Ok(found) => found,
        Err(e) => {
            render::error(run.color, &e);
            return None;
        }
    };
    render::plain(&list);
    if count == 0 {
        return None;
    }
    let answer = rl
        .readline(&format!("Undo how many turns? [1-{count}, Enter cancels] "))
        .ok()?;
    match answer.trim().parse::<usize>() {
        Ok(n) if (1..=count).contains(&n) => undo(run, rl, n),
        _ => {
            render::notice(run.color, "Nothing undone.");
            None
        }
    }
}

/// `/undo N`: what will change, the question (and a second one when someone else changed a
/// file since), then the restore. Returns the undone turn's prompt for the input line.
fn undo(
    run: &mut SessionRun,
    rl: &mut Editor<SlashHelper, FileHistory>,
    turns: usize,
) -> Option<String> {
    let color = run.color;
    let preview = match run.undo_preview(turns) {
        Ok(p) => p,
        Err(e) => {
            render::error(color, &e);
            return None;
        }
    };
    render::plain(&preview.to_string());
    if !yes(rl, "Undo? (files and conversation) [y/N] ") {
        render::notice(color, "Nothing undone.");
        return None;
    }
    let conflicts = preview.plan.conflicts().count();
    let force = conflicts > 0
        && yes(
            rl,
            &format!(
                "{conflicts} path(s) changed after the turn ended (CONFLICT above). \
                 Overwrite them too? [y/N] "
            ),
        );
    match run.undo_apply(&preview, force) {
        Ok(prompt) => Some(prompt),
        Err(e) => {
            render::error(color, &e);
            None
        }
    }
}

fn yes(rl: &mut Editor<SlashHelper, FileHistory>, question: &str) -> bool {
    rl.readline(question)
        .is_ok_and(|a| matches!(a.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}
