//! The REPL's slash commands: one table drives parsing, `/help` and Tab completion.
//!
//! Pure: parsing a line never touches the agent (`status` only formats what it is given). A
//! line that starts with `/` but names no command is an error for the person and is never sent
//! to the model.

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlashCommand {
    Help,
    Reset,
    Model(Option<String>),
    Tokens,
    Compact,
    Diff,
    Save(Option<String>),
    Sessions,
    /// `/mode [name]`: show the permission mode, or switch to another.
    Mode(Option<String>),
    /// `/plan`: into plan mode, or back to default mode from it (CoreCoder 0.8).
    Plan,
    /// `/permissions [remove N]`: every rule in force and where it came from.
    Permissions(Option<String>),
    /// `/status`: model, endpoint, session, permission mode and the shell sandbox.
    Status,
    /// `/todos`: the session's task list (`todo_write`).
    Todos,
    /// `/undo [N]`: files and conversation back to before the last N turns (default 1).
    Undo(usize),
    /// `/checkpoints`: the turns that can be undone.
    Checkpoints,
    /// `/mcp`: the MCP servers, their state, tool count and last log lines.
    Mcp,
    Quit,
}

/// One row of the table.
pub struct Spec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub args: &'static str,
    pub help: &'static str,
}

pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "/help",
        aliases: &[],
        args: "",
        help: "show this help",
    },
    Spec {
        name: "/reset",
        aliases: &["/clear"],
        args: "",
        help: "clear the conversation (a new session)",
    },
    Spec {
        name: "/model",
        aliases: &[],
        args: "[name]",
        help: "show the model, or switch to another",
    },
    Spec {
        name: "/tokens",
        aliases: &[],
        args: "",
        help: "tokens used so far, and the cost when known",
    },
    Spec {
        name: "/compact",
        aliases: &[],
        args: "",
        help: "compress the conversation now",
    },
    Spec {
        name: "/diff",
        aliases: &[],
        args: "",
        help: "diff of every file changed this session",
    },
    Spec {
        name: "/save",
        aliases: &[],
        args: "[name]",
        help: "save the session (under a name)",
    },
    Spec {
        name: "/sessions",
        aliases: &[],
        args: "",
        help: "list the newest saved sessions",
    },
    Spec {
        name: "/mode",
        aliases: &[],
        args: "[name]",
        help: "permission mode: default, acceptEdits, plan, bypassPermissions (Shift-Tab cycles)",
    },
    Spec {
        name: "/plan",
        aliases: &[],
        args: "",
        help: "plan mode on or off: investigate and propose, change nothing",
    },
    Spec {
        name: "/permissions",
        aliases: &[],
        args: "[remove N]",
        help: "the rules in force and where they come from; remove one",
    },
    Spec {
        name: "/status",
        aliases: &[],
        args: "",
        help: "model, session, permission mode and the shell sandbox in force",
    },
    Spec {
        name: "/todos",
        aliases: &[],
        args: "",
        help: "the task list the model keeps with todo_write",
    },
    Spec {
        name: "/undo",
        aliases: &["/rewind"],
        args: "[N]",
        help: "restore files and conversation to before the last N turns (shows, then asks)",
    },
    Spec {
        name: "/checkpoints",
        aliases: &[],
        args: "",
        help: "the turns that can be undone (also Esc Esc at an empty prompt)",
    },
    Spec {
        name: "/mcp",
        aliases: &[],
        args: "",
        help: "MCP servers: state, tools, last lines of their log",
    },
    Spec {
        name: "/quit",
        aliases: &["/exit"],
        args: "",
        help: "leave (also `quit`, `exit`, Ctrl-D)",
    },
];

/// What `/status` shows: the model and endpoint, the session, the permission mode, the
/// shell sandbox and the hooks in force ("unsandboxed" under `danger-full-access`).
pub fn status(
    config: &crate::config::Config,
    session: &str,
    dispatcher: &crate::dispatch::Dispatcher,
) -> String {
    format!(
        "Model: {} at {}\nSession: {session}\nPermission mode: {}\nSandbox: {}\nHooks: {}\n",
        config.model,
        crate::redact::redact_urls(&config.base_url),
        dispatcher.mode(),
        dispatcher.sandbox().describe(),
        dispatcher.hooks().summary()
    )
}

/// `None` when the line is a message for the model; otherwise the command or an error text.
pub fn parse(line: &str) -> Option<Result<SlashCommand, String>> {
    let line = line.trim();
    if matches!(line, "quit" | "exit") {
        return Some(Ok(SlashCommand::Quit));
    }
    if !line.starts_with('/') {
        return None;
    }
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let arg = Some(rest.trim().to_string()).filter(|a| !a.is_empty());
    let Some(spec) = COMMANDS
        .iter()
        .find(|s| s.name == word || s.aliases.contains(&word))
    else {
        return Some(Err(format!("unknown command {word} (try /help)")));
    };
    if spec.args.is_empty() && arg.is_some() {
        return Some(Err(format!("{} takes no arguments", spec.name)));
    }
    Some(Ok(match spec.name {
        "/help" => SlashCommand::Help,
        "/reset" => SlashCommand::Reset,
        "/model" => SlashCommand::Model(arg),
        "/tokens" => SlashCommand::Tokens,
        "/compact" => SlashCommand::Compact,
        "/diff" => SlashCommand::Diff,
        "/save" => SlashCommand::Save(arg),
        "/sessions" => SlashCommand::Sessions,
        "/mode" => SlashCommand::Mode(arg),
        "/plan" => SlashCommand::Plan,
        "/permissions" => SlashCommand::Permissions(arg),
        "/status" => SlashCommand::Status,
        "/todos" => SlashCommand::Todos,
        "/undo" => match arg.as_deref().map(str::parse::<usize>) {
            None => SlashCommand::Undo(1),
            Some(Ok(n)) if n > 0 => SlashCommand::Undo(n),
            Some(_) => return Some(Err("usage: /undo or /undo N (N turns back, N ≥ 1)".into())),
        },
        "/checkpoints" => SlashCommand::Checkpoints,
        "/mcp" => SlashCommand::Mcp,
        _ => SlashCommand::Quit,
    }))
}

/// The `/help` text, from the table.
pub fn help() -> String {
    let mut out = String::from("Commands:\n");
    for s in COMMANDS {
        let usage = format!("{} {}", s.name, s.args);
        let aliases = if s.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also {})", s.aliases.join(", "))
        };
        out.push_str(&format!("  {usage:<18}{}{aliases}\n", s.help));
    }
    out.push_str(
        "\nInput:\n  Enter             send\n  Alt-Enter, Esc-Enter, Ctrl-J   new line\n  \
         Shift-Tab         next permission mode (default → acceptEdits → plan)\n  \
         Ctrl-C            cancel the running turn, or clear the line\n  \
         Esc Esc           the turns that can be undone (at an empty prompt)\n  \
         Ctrl-D            leave\n",
    );
    out
}

/// Completions for a partly typed first word.
pub fn complete(prefix: &str) -> Vec<&'static str> {
    if !prefix.starts_with('/') || prefix.contains(char::is_whitespace) {
        return Vec::new();
    }
    COMMANDS
        .iter()
        .flat_map(|s| std::iter::once(s.name).chain(s.aliases.iter().copied()))
        .filter(|n| n.starts_with(prefix))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_row_parses_and_messages_are_not_commands() {
        for s in COMMANDS {
            assert!(matches!(parse(s.name), Some(Ok(_))), "{}", s.name);
        }
        assert_eq!(parse("fix the bug"), None);
        assert_eq!(parse("/clear"), Some(Ok(SlashCommand::Reset)));
        assert_eq!(parse("exit"), Some(Ok(SlashCommand::Quit)));
        assert_eq!(
            parse("/model  gpt-4o "),
            Some(Ok(SlashCommand::Model(Some("gpt-4o".into()))))
        );
        assert_eq!(parse("/save"), Some(Ok(SlashCommand::Save(None))));
        assert_eq!(parse("/undo"), Some(Ok(SlashCommand::Undo(1))));
        assert_eq!(parse("/undo 3"), Some(Ok(SlashCommand::Undo(3))));
        assert!(matches!(parse("/undo 0"), Some(Err(_))));
        assert!(matches!(parse("/undo x"), Some(Err(_))));
    }

    #[test]
    fn unknown_commands_and_stray_arguments_are_errors() {
        assert_eq!(
            parse("/frobnicate now"),
            Some(Err("unknown command /frobnicate (try /help)".into()))
        );
        assert_eq!(
            parse("/tokens please"),
            Some(Err("/tokens takes no arguments".into()))
        );
    }

    #[test]
    fn completion_and_help_come_from_the_table() {
        assert_eq!(complete("/s"), ["/save", "/sessions", "/status"]);
        assert_eq!(complete("/to"), ["/tokens", "/todos"]);
        assert_eq!(complete("/cl"), ["/clear"]);
        assert!(complete("hello").is_empty());
        let help = help();
        for s in COMMANDS {
            assert!(help.contains(s.name) && help.contains(s.help));
        }
    }
}
