//! A live session: the agent, the file it autosaves to, and what slash commands do to it.
//!
//! Owns the state that outlives one agent value: the tool context (working directory, changed
//! files), the token totals, and the session's id, so `/model` can rebuild the agent without
//! losing any of it. Autosave runs after every round through the agent's round hook, so a crash
//! or `kill -9` loses at most the round in flight. Printing goes through `render`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::agent::{Agent, EventSink, RoundHook};
use crate::config::Config;
use crate::error::Error;
use crate::llm::usage::UsageTotals;
use crate::message::Message;
use crate::render;
use crate::session::{Session, SessionStore};
use crate::slash::{self, SlashCommand};
use crate::tools::ToolContext;

/// Which conversation to start with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    Fresh,
    /// `-r ID`
    Id(String),
    /// `-c`: the newest session of the working directory.
    Latest,
}

pub struct SessionRun {
    pub agent: Agent,
    pub config: Config,
    pub color: bool,
    ctx: ToolContext,
    usage: Arc<Mutex<UsageTotals>>,
    store: SessionStore,
    /// Id, model and directory of the session file (its `messages` stay empty: the agent
    /// holds them). Shared with the autosave hook, so `/save name` redirects later saves.
    meta: Arc<Mutex<Session>>,
}

impl SessionRun {
    /// Builds the agent, resuming a saved conversation when asked. `model_flag` says whether
    /// `-m` was given: a resumed session's model is restored otherwise.
    pub fn start(
        mut config: Config,
        cwd: PathBuf,
        events: EventSink,
        store: SessionStore,
        resume: &Resume,
        model_flag: bool,
        color: bool,
    ) -> Result<SessionRun, Error> {
        let resumed = match resume {
            Resume::Fresh => None,
            Resume::Id(id) => Some(store.load(id)?),
            Resume::Latest => match store.latest_for_dir(&cwd)? {
                Some(s) => Some(s),
                None => {
                    return Err(Error::Usage(format!(
                        "no saved session for {}",
                        cwd.display()
                    )));
                }
            },
        };
        let mut meta = Session::new(config.model.clone(), Some(cwd.clone()));
        let mut messages = Vec::new();
        if let Some(mut saved) = resumed {
            if !model_flag {
                config.model = saved.model.clone();
            }
            messages = std::mem::take(&mut saved.messages);
            meta = Session {
                model: config.model.clone(),
                cwd: Some(cwd.clone()),
                ..saved
            };
        }
        let ctx = ToolContext::new(cwd, events);
        let usage = Arc::default();
        let meta = Arc::new(Mutex::new(meta));
        let agent = assemble(&config, &ctx, &usage, &store, &meta, color)?;
        let mut run = SessionRun {
            agent,
            config,
            color,
            ctx,
            usage,
            store,
            meta,
        };
        run.agent.set_messages(messages);
        Ok(run)
    }

    pub fn session_id(&self) -> String {
        self.meta
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .id
            .clone()
    }

    pub fn resumed_messages(&self) -> usize {
        self.agent.messages().len()
    }

    /// Saves now (after a cancelled turn, and after slash commands that change history).
    pub fn autosave(&self) {
        save(&self.store, &self.meta, self.agent.messages(), self.color);
    }

    /// Carries out a slash command (`/quit` is the REPL's own business).
    pub async fn command(&mut self, cmd: SlashCommand) {
        let color = self.color;
        match cmd {
            SlashCommand::Help => render::plain(&slash::help()),
            SlashCommand::Reset => {
                self.agent.set_messages(Vec::new());
                let fresh = Session::new(self.config.model.clone(), self.ctx.cwd().into());
                *self.meta.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
                render::notice(color, "Conversation cleared; this is a new session.");
            }
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
            SlashCommand::Diff => render::plain(&crate::diff::session_diff(&self.ctx, color)),
            SlashCommand::Save(name) => self.save_named(name),
            SlashCommand::Sessions => render::sessions(color, &self.store.list(20)),
            SlashCommand::Quit => {}
        }
    }

    fn switch_model(&mut self, name: String) {
        let mut config = self.config.clone();
        config.model = name.clone();
        match assemble(
            &config,
            &self.ctx,
            &self.usage,
            &self.store,
            &self.meta,
            self.color,
        ) {
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

    fn save_named(&mut self, name: Option<String>) {
        let mut meta = self.meta.lock().unwrap_or_else(PoisonError::into_inner);
        let mut session = Session {
            messages: self.agent.messages().to_vec(),
            ..meta.clone()
        };
        let saved = match &name {
            Some(n) => self.store.save_as(&mut session, n),
            None => self.store.save(&session),
        };
        match saved {
            Ok(path) => {
                meta.id = session.id.clone();
                render::notice(
                    self.color,
                    &format!(
                        "Saved {} ({})\nResume with: corecoder -r {}",
                        session.id,
                        path.display(),
                        session.id
                    ),
                );
            }
            Err(e) => render::error(self.color, &e.to_string()),
        }
    }
}

/// The agent for `config`, sharing the session's tool context, totals and autosave.
fn assemble(
    config: &Config,
    ctx: &ToolContext,
    usage: &Arc<Mutex<UsageTotals>>,
    store: &SessionStore,
    meta: &Arc<Mutex<Session>>,
    color: bool,
) -> Result<Agent, Error> {
    let (store, meta) = (store.clone(), meta.clone());
    let hook: RoundHook =
        Box::new(move |messages: &[Message]| save(&store, &meta, messages, color));
    Ok(crate::build_agent(config, ctx.clone(), usage.clone())?.with_round_hook(hook))
}

fn save(store: &SessionStore, meta: &Mutex<Session>, messages: &[Message], color: bool) {
    if messages.is_empty() {
        return;
    }
    let session = Session {
        messages: messages.to_vec(),
        ..meta.lock().unwrap_or_else(PoisonError::into_inner).clone()
    };
    if let Err(e) = store.autosave(&session) {
        render::error(color, &format!("could not save the session: {e}"));
    }
}
