//! The system prompt: who the agent is, its environment, its tools, its rules, and the
//! project's own instructions (`AGENTS.md`), which live here so compaction never drops them.

use std::path::Path;

use crate::tools::Toolbox;

/// Project instructions beyond this are cut, so one huge file cannot eat the window.
pub const MAX_INSTRUCTIONS: usize = 32 * 1024;

const RULES: &str = "\
1. Read before you edit: look at a file's current content before changing it.
2. Use edit_file for targeted changes; write_file only for new files or complete rewrites.
3. Verify your work: after a change, run the relevant tests or commands.
4. Be concise: show code rather than prose, and explain only what is needed.
5. Work one step at a time on multi-step tasks.
6. Give edit_file enough surrounding context in old_string to match exactly once.
7. Follow the project's existing style and conventions.
8. If the request is ambiguous, ask a clarifying question instead of guessing.";

/// Appended to the system prompt while the permission mode is `plan`.
pub const PLAN_MODE: &str = "\n# Plan mode\n\
You are in plan mode: nothing that changes files or runs commands with side effects will run. \
Investigate with the reading tools (read_file, glob, grep, and read-only shell commands such as \
ls, git status, git log), then write a concrete plan: the steps, and the files each one changes. \
When the plan is ready, call exit_plan_mode with the whole plan so the user can approve it; do \
not try to make the changes yourself until then.\n";

/// The full system prompt for an agent working in `cwd` with `tools`.
pub fn system_prompt(
    cwd: &Path,
    tools: &Toolbox,
    instructions: Option<&str>,
    sandbox: &str,
) -> String {
    let tool_list: String = tools
        .iter()
        .map(|t| format!("- {}: {}\n", t.name(), t.description()))
        .collect();
    let mut prompt = format!(
        "You are corecoder, a coding agent running in the user's terminal. You help with \
         software engineering: writing code, fixing bugs, refactoring, explaining code and \
         running commands, by calling the tools below.\n\n\
         # Environment\n- Working directory: {}\n- OS: {} ({})\n- Date: {}\n- Shell sandbox: \
         {sandbox}. A command that fails because of the sandbox says `[sandbox] blocked`; if \
         it truly needs more, call bash again with unsandboxed: true and a justification (the \
         user is asked).\n\n\
         # Tools\n{tool_list}\n# Rules\n{RULES}\n",
        cwd.display(),
        std::env::consts::OS,
        std::env::consts::ARCH,
        crate::clock::LocalTime::now().date(),
    );
    if let Some(text) = instructions {
        prompt.push_str("\n# Project instructions (AGENTS.md)\n");
        prompt.push_str(text);
        prompt.push('\n');
    }
    prompt
}

/// `AGENTS.md` files from the repository root down to `cwd` (nearest last), capped at 32 KiB.
/// Outside a repository only `cwd`'s own file counts.
pub fn load_instructions(cwd: &Path) -> Option<String> {
    let mut dirs = Vec::new();
    for dir in cwd.ancestors() {
        dirs.push(dir);
        if dir.join(".git").exists() {
            break;
        }
    }
    if !cwd.ancestors().any(|d| d.join(".git").exists()) {
        dirs.truncate(1);
    }
    let mut text = String::new();
    for dir in dirs.iter().rev() {
        if let Ok(body) = std::fs::read_to_string(dir.join("AGENTS.md")) {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(body.trim());
        }
    }
    if text.is_empty() {
        return None;
    }
    if text.len() > MAX_INSTRUCTIONS {
        let mut cut = MAX_INSTRUCTIONS;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[AGENTS.md cut at 32 KiB]");
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_md_is_collected_from_repo_root_to_cwd_nearest_last() {
        let root = tempfile::tempdir().unwrap();
        let sub = root.path().join("crates/x");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir(root.path().join(".git")).unwrap();
        std::fs::write(root.path().join("AGENTS.md"), "root rules").unwrap();
        std::fs::write(sub.join("AGENTS.md"), "crate rules").unwrap();
        assert_eq!(
            load_instructions(&sub).unwrap(),
            "root rules\n\ncrate rules"
        );
    }

    #[test]
    fn agents_md_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "é".repeat(40_000)).unwrap();
        let text = load_instructions(dir.path()).unwrap();
        assert!(text.len() <= MAX_INSTRUCTIONS + 40 && text.ends_with("[AGENTS.md cut at 32 KiB]"));
    }

    #[test]
    fn prompt_names_environment_tools_and_instructions() {
        let p = system_prompt(
            Path::new("/w"),
            &Toolbox::basic(),
            Some("use tabs"),
            "workspace-write",
        );
        assert!(p.contains("Working directory: /w"));
        assert!(p.contains("- edit_file: "));
        assert!(p.contains("8. If the request is ambiguous"));
        assert!(p.ends_with("use tabs\n"));
    }
}
