//! The integration test binary: one target, one module per concern.

// Local SSE server, SSE builders, scripted model; the history-invariant check.
mod support;
// Every recorded provider stream in tests/fixtures/sse, by decoder and over HTTP.
mod fixtures;
// The HTTP client against the local server: request shape, retries, fallbacks, faults.
mod client;
// The bounds on one reply against servers that never stop: size, line, bytes without content.
mod limits;
// The agent loop with a scripted model: tools, errors, limits, cancellation, compaction.
mod agent;
// The `corecoder` binary end to end against the local server.
mod binary;
// One-shot output formats, exit codes and sessions through the binary.
mod oneshot;
// Sessions between processes: concurrent resumes fork, kill -9 frees, -c reads headers only.
mod sessions;
// The interactive REPL in a real pseudo-terminal (tmux).
mod repl;
// Approval prompts in a real terminal: answers, previews, rules, modes, sub-agents.
mod approvals;
// Long `bash` outputs through the binary: memory, the saved copy's cap, the spill directory.
mod bash_output;
// Consent without a person: -p fails closed; flags, modes, the hard floor, secrets.
mod headless;
// Crashes mid-write and odd files through the binary.
mod crash;
// The sandbox through the binary: flags, escalation, what the model is told.
mod sandboxed_runs;
// The kernel sandbox (Landlock, seccomp, namespaces) around real shell commands.
mod sandbox;
// Undo checkpoints around real shell commands: exact restores, conflicts, budget, kill -9.
mod checkpoint;
// Hooks through the binary: exit codes, JSON decisions, matchers, timeouts, trust, Stop.
mod hooks;
// The todo list: sent last every round, through compaction, sub-agents, resume, stream-json.
mod todos;
// Undo through the binary: `corecoder undo`, conflicts, the budget, `/undo` and Esc Esc.
mod undo;
// The MCP client against a fake misbehaving server, the real servers, and HTTP on loopback.
mod mcp;
// Requests prompt caches can reuse: a stable system prompt and tools, append-only rounds.
mod prompt_cache;
// Local model servers found without configuration, their windows, cut prompts (fake servers).
mod local_servers;
