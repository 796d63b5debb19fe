//! The permission mode: how much runs without asking. This file owns the names (Claude Code's
//! spelling, so users can carry their habits over) and the Shift-Tab cycle; what each mode
//! allows is decided in `decide`, not here.

/// How much runs without asking a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Reads run; edits and shell commands ask unless a rule allows them.
    #[default]
    Default,
    /// Edits inside the workspace run too; shell commands still ask.
    AcceptEdits,
    /// Nothing that changes anything runs, whatever the rules say.
    Plan,
    /// Everything runs except what the gate, deny rules and the hard floor stop.
    BypassPermissions,
}

impl Mode {
    /// Accepts Claude Code's names in any case, with `-`/`_` separators, and short forms.
    pub fn parse(s: &str) -> Option<Mode> {
        // Folding case and separators lets `acceptEdits`, `accept-edits`, `ACCEPT_EDITS` agree.
        let key: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        match key.as_str() {
            "default" => Some(Mode::Default),
            "acceptedits" | "accept" | "edits" => Some(Mode::AcceptEdits),
            "plan" => Some(Mode::Plan),
            "bypasspermissions" | "bypass" => Some(Mode::BypassPermissions),
            _ => None,
        }
    }

    /// The Claude Code spelling, as shown in the status line and written to config.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::AcceptEdits => "acceptEdits",
            Mode::Plan => "plan",
            Mode::BypassPermissions => "bypassPermissions",
        }
    }

    /// The Shift-Tab cycle. Bypass is left out of the cycle on purpose: a stray key press
    /// must never widen permissions that far, so it only ever steps back to `Default`.
    pub fn next(self) -> Mode {
        match self {
            Mode::Default => Mode::AcceptEdits,
            Mode::AcceptEdits => Mode::Plan,
            Mode::Plan | Mode::BypassPermissions => Mode::Default,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
