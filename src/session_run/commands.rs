//! Slash commands of a live session that need more than a line: `/permissions` and
//! `/save NAME`.

use std::sync::PoisonError;

use crate::render;
use crate::session::Session;

use super::SessionRun;

impl SessionRun {
    /// `/permissions`: the rules, numbered, with their sources; `remove N` drops one.
    pub(super) fn permissions(&self, arg: Option<&str>) {
        let permissions = self.dispatcher.permissions();
        if let Some(arg) = arg {
            let index = arg
                .strip_prefix("remove")
                .map(str::trim)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n > 0);
            let Some(n) = index else {
                render::error(self.color, "usage: /permissions or /permissions remove N");
                return;
            };
            match permissions.remove(n - 1) {
                Ok(said) => render::notice(self.color, &said),
                Err(e) => render::error(self.color, &e),
            }
            return;
        }
        let mut out = format!("Permission mode: {}\n", permissions.mode());
        let entries = permissions.entries();
        if entries.is_empty() {
            out.push_str("No rules. Answer \"a\" at a prompt, or use --allow/--deny or [permissions] in a config file.\n");
        }
        for (i, e) in entries.iter().enumerate() {
            let kind = e.kind.to_string();
            out.push_str(&format!(
                "  {:>2}. {kind:<5} {}  ({})\n",
                i + 1,
                e.rule,
                e.source
            ));
        }
        if !entries.is_empty() {
            out.push_str("Remove one with /permissions remove N.\n");
        }
        out.push_str("Always, in every mode: the dangerous-command gate; writes to ~/.ssh, ~/.gnupg, ~/.aws, shell start-up files, .git internals and the like ask.\n");
        render::plain(&out);
    }

    pub(super) fn save_named(&mut self, name: Option<String>) {
        let mut meta = self.meta.lock().unwrap_or_else(PoisonError::into_inner);
        let mut session = Session {
            messages: self.agent.messages().to_vec(),
            todos: self.ctx.todos.get(),
            ..meta.clone()
        };
        let saved = match &name {
            Some(n) => self.store.save_as(&mut session, &mut self.claim, n),
            None => self.store.save(&session),
        };
        match saved {
            Ok(path) => {
                meta.id = session.id.clone();
                self.dispatcher.hooks().set_session(&session.id);
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
