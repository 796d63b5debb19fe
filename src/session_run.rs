//! A live session: the agent, the file it autosaves to, and what slash commands do to it.
//!
//! Owns the state that outlives one agent value: the tool context (working directory, changed
//! files), the token totals, the shell's spill directory, and the session's id, so `/model` can rebuild the agent without
//! losing any of it. Autosave runs after every round through the agent's round hook, so a crash
//! or `kill -9` loses at most the round in flight. The session file is claimed for the life of
//! the run (see `session.rs`): a session another live corecoder holds is resumed as a copy,
//! with a notice. Printing goes through `render`.

mod commands;
mod rewind;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::agent::{Agent, RoundHook};
use crate::checkpoint::Store;
use crate::config::Config;
use crate::dispatch::Dispatcher;
use crate::error::Error;
use crate::event::EventSink;
use crate::llm::usage::UsageTotals;
use crate::mcp::McpHub;
use crate::message::Message;
use crate::policy::Mode;
use crate::render;
use crate::session::{Claim, Opened, Session, SessionStore};
use crate::slash::{self, SlashCommand};
use crate::tools::ToolContext;
use crate::tools::bash::SpillDir;
use crate::tools::todo::TodoList;
use crate::undo::Undo;

/// Which conversation to start with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    Fresh,
    /// `-r ID`
    Id(String),
    /// `-c`: the newest session of the working directory.
    Latest,
}

/// What a session starts from.
pub struct Start {
    pub config: Config,
    pub cwd: PathBuf,
    pub events: EventSink,
    pub store: SessionStore,
    pub resume: Resume,
    /// Whether `-m` was given: a resumed session's model is restored otherwise.
    pub model_flag: bool,
    pub color: bool,
    /// Decides and asks for every call, the sub-agents' too; outlives `/model`'s rebuilds.
    pub dispatcher: Arc<Dispatcher>,
    /// Where `bash` saves long outputs; the session's end removes it.
    pub spill: Arc<SpillDir>,
    /// The checkpoints the dispatcher takes; pointed at this session's id once it is known.
    pub undo: Arc<Undo>,
    /// The checkpoint store and the workspace it covers (`None`: undo is off).
    pub checkpoints: Option<(Store, PathBuf)>,
    /// The MCP servers (started in the background); their tools join every agent built here.
    pub mcp: Option<Arc<McpHub>>,
}

pub struct SessionRun {
    pub agent: Agent,
    pub config: Config,
    pub color: bool,
    ctx: ToolContext,
    usage: Arc<Mutex<UsageTotals>>,
    dispatcher: Arc<Dispatcher>,
    spill: Arc<SpillDir>,
    undo: Arc<Undo>,
    checkpoints: Option<(Store, PathBuf)>,
    mcp: Option<Arc<McpHub>>,
    store: SessionStore,
    /// Id, model and directory of the session file (its `messages` stay empty: the agent
    /// holds them). Shared with the autosave hook, so `/save name` redirects later saves.
    meta: Arc<Mutex<Session>>,
    /// This process's ownership of the file `meta` names; replaced whenever the id changes.
    claim: Claim,
}

impl SessionRun {
    /// Builds the agent, resuming a saved conversation when asked.
    pub fn start(start: Start) -> Result<SessionRun, Error> {
        let Start {
            mut config,
            cwd,
            events,
            store,
            resume,
            model_flag,
            color,
            dispatcher,
            spill,
            undo,
            checkpoints,
            mcp,
        } = start;
        let id = match &resume {
            Resume::Fresh => None,
            Resume::Id(id) => Some(id.clone()),
            Resume::Latest => match store.latest_for_dir(&cwd)? {
                Some(id) => Some(id),
                None => {
                    return Err(Error::Usage(format!(
                        "no saved session for {}",
                        cwd.display()
                    )));
                }
            },
        };
        let (resumed, claim) = match id {
            None => (None, store.claim_new()?),
            Some(id) => {
                let Opened {
                    session,
                    claim,
                    forked_from,
                } = store.open(&id)?;
                // On stderr in every output format, as the other start-up notices; the stream's
                // `init` and `result` carry the copy's id.
                if let Some(busy) = forked_from {
                    let copy = claim.id();
                    render::notice(
                        color,
                        &format!("{busy}: continuing in a copy of it, {copy}."),
                    );
                }
                (Some(session), claim)
            }
        };
        let mut meta = Session {
            id: claim.id().to_string(),
            ..Session::new(config.model.clone(), Some(cwd.clone()))
        };
        let mut messages = Vec::new();
        let ctx = ToolContext::new(cwd.clone(), events);
        if let Some(mut saved) = resumed {
            if !model_flag {
                config.model = saved.model.clone();
            }
            messages = std::mem::take(&mut saved.messages);
            ctx.todos.set(std::mem::take(&mut saved.todos));
            meta = Session {
                model: config.model.clone(),
                cwd: Some(cwd.clone()),
                ..saved
            };
        }
        if let Some((checkpoint_store, workspace)) = &checkpoints {
            undo.switch(checkpoint_store.clone(), claim.id(), workspace);
        }
        let usage = Arc::default();
        let meta = Arc::new(Mutex::new(meta));
        let parts = Parts {
            ctx: &ctx,
            usage: &usage,
            dispatcher: &dispatcher,
            spill: &spill,
            mcp: mcp.as_ref(),
            store: &store,
            meta: &meta,
        };
        let agent = assemble(&config, &parts, color)?;
        let mut run = SessionRun {
            agent,
            config,
            color,
            ctx,
            usage,
            dispatcher,
            spill,
            undo,
            checkpoints,
            mcp,
            store,
            meta,
            claim,
        };
        run.agent.set_messages(messages);
        run.dispatcher.hooks().set_session(&run.session_id());
        Ok(run)
    }

    pub fn session_id(&self) -> String {
        self.meta
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .id
            .clone()
    }

    /// What the REPL's greeting shows of this session.
    pub fn banner(&self) -> render::Banner<'_> {
        render::Banner {
            model: &self.config.model,
            base_url: &self.config.base_url,
            session_id: self.session_id(),
            resumed: self.agent.messages().len(),
            mode: Some(self.dispatcher.mode())
                .filter(|m| *m != Mode::Default)
                .map(Mode::name),
            sandbox: self.dispatcher.sandbox().mode(),
        }
    }

    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    /// Saves now (after a cancelled turn, and after slash commands that change history).
    pub fn autosave(&self) {
        let (messages, todos) = (self.agent.messages(), &self.ctx.todos);
        save(&self.store, &self.meta, messages, todos, self.color);
    }

    /// Carries out a slash command (`/quit` is the REPL's own business).
    pub async fn command(&mut self, cmd: SlashCommand) {
        let color = self.color;
        match cmd {
            SlashCommand::Help => render::plain(&slash::help()),
            SlashCommand::Reset => match self.store.claim_new() {
                Ok(claim) => {
                    self.agent.set_messages(Vec::new());
                    self.ctx.todos.set(Vec::new());
                    let fresh = Session {
                        id: claim.id().to_string(),
                        ..Session::new(self.config.model.clone(), self.ctx.cwd().into())
                    };
                    *self.meta.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
                    if let Some((store, workspace)) = &self.checkpoints {
                        self.undo.switch(store.clone(), claim.id(), workspace);
                    }
                    self.claim = claim;
                    self.dispatcher.hooks().set_session(&self.session_id());
                    render::notice(color, "Conversation cleared; this is a new session.");
                }
                Err(e) => render::error(color, &format!("cannot start a new session: {e}")),
            },
            SlashCommand::Model(None) => render::plain(&format!("Model: {}\n", self.config.model)),
            SlashCommand::Model(Some(name)) => self.switch_model(name),
            SlashCommand::Tokens => render::totals(&self.agent.usage(), &self.config.model),
            SlashCommand::Compact => match self.agent.compact_now().await {
                Some((before, after)) => {
                    self.autosave();
                    render::notice(color, &format!("Compacted: ~{before} → ~{after} tokens"));
                }
                None => render::notice(color, "Nothing to compact."),
            },
            SlashCommand::Diff => {
                let changes = self
                    .ctx
                    .changes
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let diff = crate::diff::session_diff(changes.originals(), &self.ctx.cwd(), color);
                render::plain(&diff);
            }
            SlashCommand::Save(name) => self.save_named(name),
            SlashCommand::Todos => render::todos(&self.ctx.todos.get()),
            SlashCommand::Sessions => render::sessions(color, &self.store.list(20)),
            SlashCommand::Mode(None) => {
                let mode = self.dispatcher.mode();
                render::plain(&format!("Permission mode: {mode}\n"));
            }
            SlashCommand::Mode(Some(name)) => match Mode::parse(&name) {
                Some(mode) => self.set_mode(mode),
                None => render::error(
                    color,
                    &format!(
                        "unknown mode {name:?}: default, acceptEdits, plan or bypassPermissions"
                    ),
                ),
            },
            SlashCommand::Plan => {
                let next = match self.dispatcher.mode() {
                    Mode::Plan => Mode::Default,
                    _ => Mode::Plan,
                };
                self.set_mode(next);
            }
            SlashCommand::Permissions(arg) => self.permissions(arg.as_deref()),
            SlashCommand::Status => render::plain(&slash::status(
                &self.config,
                &self.session_id(),
                &self.dispatcher,
            )),
            SlashCommand::Checkpoints => match self.checkpoints_text() {
                Ok((list, _)) => render::plain(&list),
                Err(e) => render::error(color, &e),
            },
            SlashCommand::Mcp => match &self.mcp {
                Some(hub) => render::plain(&hub.status()),
                None => render::plain("No MCP servers configured.\n"),
            },
            // Asked about first: the REPL's business, as leaving is.
            SlashCommand::Undo(_) | SlashCommand::Quit => {}
        }
    }

    /// Switches the permission mode for the next calls (also Shift-Tab in the REPL).
    pub fn set_mode(&self, mode: Mode) {
        self.dispatcher.permissions().set_mode(mode);
        let what = match mode {
            Mode::Default => "file changes and shell commands ask",
            Mode::AcceptEdits => "file changes in the workspace run; shell commands ask",
            Mode::Plan => "nothing that changes anything runs; the model proposes a plan",
            Mode::BypassPermissions => "nothing asks (the gate and protected paths still hold)",
        };
        render::notice(self.color, &format!("Permission mode: {mode} ({what})"));
    }

    fn switch_model(&mut self, name: String) {
        let mut config = self.config.clone();
        config.model = name.clone();
        let parts = Parts {
            ctx: &self.ctx,
            usage: &self.usage,
            dispatcher: &self.dispatcher,
            spill: &self.spill,
            mcp: self.mcp.as_ref(),
            store: &self.store,
            meta: &self.meta,
        };
        match assemble(&config, &parts, self.color) {
            Ok(mut agent) => {
                agent.set_messages(self.agent.messages().to_vec());
                self.agent = agent;
                self.config = config;
                self.meta
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .model = name.clone();
                render::notice(self.color, &format!("Switched to {name}"));
            }
            Err(e) => render::error(self.color, &e.to_string()),
        }
    }
}

/// What outlives one agent value, lent to [`assemble`].
struct Parts<'a> {
    ctx: &'a ToolContext,
    usage: &'a Arc<Mutex<UsageTotals>>,
    dispatcher: &'a Arc<Dispatcher>,
    spill: &'a Arc<SpillDir>,
    mcp: Option<&'a Arc<McpHub>>,
    store: &'a SessionStore,
    meta: &'a Arc<Mutex<Session>>,
}

/// The agent for `config`, sharing the session's tool context, totals, dispatcher and autosave.
fn assemble(config: &Config, parts: &Parts, color: bool) -> Result<Agent, Error> {
    let (store, meta, todos) = (
        parts.store.clone(),
        parts.meta.clone(),
        parts.ctx.todos.clone(),
    );
    let hook: RoundHook =
        Box::new(move |messages: &[Message]| save(&store, &meta, messages, &todos, color));
    let agent = crate::build_agent(
        config,
        parts.ctx.clone(),
        parts.usage.clone(),
        parts.dispatcher.clone(),
        parts.spill.clone(),
        parts
            .mcp
            .map(|hub| hub.clone() as Arc<dyn crate::tools::ToolSource>),
    )?;
    Ok(agent.with_round_hook(hook))
}

fn save(
    store: &SessionStore,
    meta: &Mutex<Session>,
    messages: &[Message],
    todos: &TodoList,
    color: bool,
) {
    if !messages.is_empty() {
        write(store, meta, messages, todos, color);
    }
}

/// Saves the conversation as it is, also when empty (after an undo emptied it: skipping the
/// save would leave the undone turns in the file for the next `-c`).
fn write(
    store: &SessionStore,
    meta: &Mutex<Session>,
    messages: &[Message],
    todos: &TodoList,
    color: bool,
) {
    let session = Session {
        messages: messages.to_vec(),
        todos: todos.get(),
        ..meta.lock().unwrap_or_else(PoisonError::into_inner).clone()
    };
    if let Err(e) = store.autosave(&session) {
        render::error(color, &format!("could not save the session: {e}"));
    }
}
