//! A one-line `[sandbox] blocked: …` note for a command the sandbox stopped, so the model
//! knows it was the sandbox and not a bug. A heuristic on what the command printed (the
//! kernel says "Read-only file system", "Permission denied" or a failed connection; it does
//! not say why): a refused write is reported only when the path it names lies outside the
//! writable roots, and a network failure only when the network is off.

use std::path::Path;

use crate::sandbox::{Prepared, SandboxMode};

const REFUSED_WRITE: &[&str] = &[
    "Read-only file system",
    "Permission denied",
    "Operation not permitted",
];
const NO_NETWORK: &[&str] = &[
    "Could not resolve host",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Couldn't connect to server",
    "Failed to connect",
    "getaddrinfo",
    "Connection refused",
    "No address associated with hostname",
];

/// The note for a failed command's output (`stderr`, its tail), if the sandbox is the likely
/// cause.
pub fn note(stderr: &str, prepared: &Prepared) -> Option<String> {
    let mut notes = Vec::new();
    let outside = |path: &Path| !prepared.roots.iter().any(|r| path.starts_with(r));
    if let Some(path) = stderr
        .lines()
        .filter(|l| REFUSED_WRITE.iter().any(|m| l.contains(m)))
        .find_map(|l| path_in(l).filter(|p| outside(Path::new(p))))
    {
        let place = match prepared.mode {
            SandboxMode::ReadOnly => "in a read-only sandbox",
            _ => "outside the writable roots",
        };
        notes.push(format!("[sandbox] blocked: write {place}: {path}"));
    }
    if !prepared.network
        && stderr
            .lines()
            .any(|l| NO_NETWORK.iter().any(|m| l.contains(m)))
    {
        notes.push(
            "[sandbox] blocked: network access (the network is off for commands; \
             `[sandbox] network = true` turns it on)"
                .to_string(),
        );
    }
    (!notes.is_empty()).then(|| notes.join("\n"))
}

/// The first absolute path in a line of an error message (`touch: cannot touch '/etc/x':`).
fn path_in(line: &str) -> Option<String> {
    line.split_whitespace()
        .map(|w| w.trim_matches(|c: char| matches!(c, '\'' | '"' | '`' | ':' | ',' | '‘' | '’')))
        .find(|w| w.starts_with('/') && w.len() > 1)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_found_in_the_usual_error_shapes() {
        let lines = [
            "touch: cannot touch '/etc/x': Read-only file system",
            "bash: line 1: /etc/hosts: Permission denied",
            "mkdir: cannot create directory ‘/opt/new’: Permission denied",
        ];
        let found: Vec<_> = lines.iter().filter_map(|l| path_in(l)).collect();
        assert_eq!(found, ["/etc/x", "/etc/hosts", "/opt/new"]);
        assert_eq!(path_in("error: permission denied"), None);
    }
}
