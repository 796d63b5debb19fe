//! The decision for one call: the policy's, adjusted by what the `PreToolUse` hooks said and by
//! a request to leave the sandbox. Only reads state; asking and running are `dispatch.rs`'s.

use super::Dispatcher;
use super::texts::{ESCALATION_HEADLESS, escalation_reason, hook_ask};
use crate::hooks::PreVerdict;
use crate::policy::{Action, Decision, Mode};

impl Dispatcher {
    /// The decision, and when it must be asked whatever the rules say later (an escalation, a
    /// hook's `ask`), what a headless run tells the model instead. `escalation` is the
    /// justification of a call that asks to run outside the sandbox.
    pub(super) fn decision(
        &self,
        name: &str,
        action: &Action,
        hook: &PreVerdict,
        escalation: Option<&str>,
    ) -> (Decision, Option<String>) {
        let decision = match hook {
            // A hook's yes is `--yes` for one call: the hard floor, deny and ask rules and plan
            // mode still hold.
            PreVerdict::Allow if self.mode() != Mode::Plan => {
                self.permissions
                    .decide_in(Mode::BypassPermissions, name, action)
            }
            _ => self.permissions.decide(name, action),
        };
        let hook_asks = match hook {
            PreVerdict::Ask(why) => Some(why.as_str()),
            _ => None,
        };
        let forced = match (escalation, hook_asks) {
            (Some(_), _) => Some(ESCALATION_HEADLESS.to_string()),
            (None, Some(why)) => Some(hook_ask(why)),
            (None, None) => None,
        };
        let decision = match (decision, escalation, hook_asks) {
            // Leaving the sandbox is always a person's choice: no rule, mode or --yes allows it.
            (Decision::Allow | Decision::Ask { .. }, Some(justification), _) => Decision::Ask {
                reason: escalation_reason(justification),
                suggested: Vec::new(),
            },
            (Decision::Allow, None, Some(why)) => Decision::Ask {
                reason: format!("a PreToolUse hook asks: {why}"),
                suggested: Vec::new(),
            },
            (other, _, _) => other,
        };
        (decision, forced)
    }
}
