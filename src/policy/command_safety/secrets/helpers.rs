//! Commands whose output is a credential: `gh auth token` (a GitHub token, usable in a
//! header to GitHub), and `git credential fill`, `aws configure get …secret…`, `kubectl
//! config view --raw`, `op read`, `pass show`, `vault kv get`… (secrets, never sent).

use super::super::Flow;
use super::super::rules::split_flags;
use super::is_secret_name;

/// What a credential helper prints: `gh auth token` is a GitHub token; `git credential
/// fill`, `aws configure get aws_secret_access_key`, `kubectl config view --raw`, `op read`,
/// `pass show`, `vault kv get`… print secrets that have no business on the network.
pub fn output(name: &str, args: &[String]) -> Option<Flow> {
    let (short, long, pos) = split_flags(args.get(1..).unwrap_or_default());
    let sub: Vec<String> = pos.iter().map(|p| p.to_ascii_lowercase()).collect();
    let has = |w: &str| sub.iter().any(|s| s == w);
    let token = |t: &str| {
        Some(Flow {
            token: Some(t.to_string()),
            ..Flow::default()
        })
    };
    let secret = Some(Flow {
        secret: true,
        ..Flow::default()
    });
    let first = sub.first().map_or("", String::as_str);
    let second = sub.get(1).map_or("", String::as_str);
    match (name, first, second) {
        ("gh", "auth", "token") => token("GH_TOKEN"),
        ("gh", "auth", "status") if short.contains('t') || long.contains(&"show-token") => {
            token("GH_TOKEN")
        }
        ("gcloud", "auth", _) if has("print-access-token") || has("print-identity-token") => {
            token("GOOGLE_ACCESS_TOKEN")
        }
        ("az", "account", "get-access-token") => token("AZURE_ACCESS_TOKEN"),
        ("aws", "ecr", "get-login-password") => token("AWS_ECR_PASSWORD"),
        ("printenv", "", _) => secret,
        ("printenv", var, "") if is_secret_name(var) => token(&var.to_ascii_uppercase()),
        ("git", "credential", "fill" | "get") => secret,
        ("aws", "configure", "get")
            if sub
                .iter()
                .any(|w| w.contains("secret") || w.contains("token")) =>
        {
            secret
        }
        ("aws", "configure", "export-credentials") => secret,
        ("aws", "sts", op)
            if op.starts_with("get-session-token")
                || op.starts_with("assume-role")
                || op == "get-federation-token" =>
        {
            secret
        }
        ("aws", "secretsmanager", "get-secret-value") | ("aws", "iam", "create-access-key") => {
            secret
        }
        ("aws", "ssm", _) if long.contains(&"with-decryption") => secret,
        ("kubectl", "config", "view")
            if long.contains(&"raw") || long.iter().any(|l| l.starts_with("flatten")) =>
        {
            secret
        }
        ("kubectl", "get", "secret" | "secrets") | ("kubectl", "create", "token") => secret,
        ("security", op, _) if op.starts_with("find-") && short.contains(['w', 'g']) => secret,
        ("security", "dump-keychain", _) => secret,
        ("op", "read", _) | ("op", "item" | "document", "get") => secret,
        ("pass" | "gopass", op, _)
            if !op.is_empty()
                && !matches!(
                    op,
                    "ls" | "list"
                        | "find"
                        | "grep"
                        | "init"
                        | "insert"
                        | "generate"
                        | "edit"
                        | "rm"
                        | "mv"
                        | "cp"
                        | "git"
                ) =>
        {
            secret
        }
        ("vault", "kv", "get") | ("vault", "read", _) | ("vault", "token", "create") => secret,
        ("vault", "print", _) | ("doppler", "secrets", _) | ("heroku", "auth:token", _) => secret,
        ("bw", "get", _) | ("lpass", "show", _) | ("secret-tool", "lookup", _) => secret,
        ("az", "keyvault", "secret") if has("show") || has("download") => secret,
        ("gcloud", "secrets", "versions") if has("access") => secret,
        ("heroku", "config", _) | ("heroku", "config:get", _) => secret,
        ("gpg" | "gpg2", _, _) if long.iter().any(|l| l.starts_with("export-secret")) => secret,
        _ => None,
    }
}
