//! Where credentials may go. Secret files, the environment and the output of credential
//! helpers never go to the network (that is `Flow::secret`). A token held in a variable
//! (`$GITHUB_TOKEN`) or printed by its own CLI (`gh auth token`) is how APIs are called, so
//! it is allowed in exactly one place: an HTTP header (or `-u user:token`) of a request whose
//! host is the token's own service (`api.github.com` for `GITHUB_TOKEN`, `api.openai.com`
//! for `OPENAI_API_KEY`); a token whose service the name does not tell may go in a header to
//! any host except paste and request-capture services and public IP addresses. Anywhere else
//! (a body, a query, a form, a DNS name, a raw socket) it is blocked.

use super::Check;
use super::flow::{Arg, Flow};
use super::rules::SECRET;
use words::{hosts, in_header, in_userinfo, url_host};

mod helpers;
mod words;

pub use helpers::output;

pub const TOKEN_PLACE: &str = "a credential may only be sent in an authorization header to its \
     own service (e.g. $GITHUB_TOKEN to api.github.com); never put secrets in a body, URL, \
     DNS name or to another host, use placeholders";

pub const COMMIT_SECRET: &str = "adding keys, credentials or .env files to git publishes \
     them with the next push; keep them out of the repository (.gitignore) and use \
     placeholders";

/// Variable names that hold credentials: `GITHUB_TOKEN`, `OPENAI_API_KEY`, `DB_PASSWORD`,
/// `AWS_SECRET_ACCESS_KEY`, `SSH_PRIVATE_KEY`, `GOOGLE_APPLICATION_CREDENTIALS`…
pub fn is_secret_name(name: &str) -> bool {
    const MARKERS: &[&str] = &[
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "AUTH_KEY",
    ];
    let upper = name.to_ascii_uppercase();
    if upper.is_empty() || upper.contains("TOKENIZER") {
        return false;
    }
    MARKERS.iter().any(|m| upper.contains(m))
        || upper.ends_with("_KEY")
        || upper.ends_with("_PAT")
        || (upper.starts_with("AWS_") && upper.contains("KEY"))
}

/// The domains a token's own service answers on, told by its name.
fn service_domains(name: &str) -> Option<&'static [&'static str]> {
    const SERVICES: &[(&[&str], &[&str])] = &[
        (
            &["GITHUB", "GH_"],
            &["github.com", "githubusercontent.com", "ghcr.io"],
        ),
        (&["GITLAB", "CI_JOB_TOKEN"], &["gitlab.com"]),
        (&["OPENAI"], &["openai.com"]),
        (&["ANTHROPIC", "CLAUDE"], &["anthropic.com"]),
        (&["HF_", "HUGGING"], &["huggingface.co", "hf.co"]),
        (&["SLACK"], &["slack.com"]),
        (&["STRIPE"], &["stripe.com"]),
        (&["NPM_"], &["npmjs.org", "npmjs.com"]),
        (&["PYPI", "TWINE"], &["pypi.org"]),
        (&["CARGO_REGISTRY"], &["crates.io"]),
        (&["DOCKER"], &["docker.io", "docker.com"]),
        (&["AWS_"], &["amazonaws.com", "aws.amazon.com"]),
        (
            &["GOOGLE", "GCP_", "GCLOUD", "GEMINI"],
            &["googleapis.com", "google.com"],
        ),
        (
            &["AZURE"],
            &["azure.com", "azure.net", "microsoft.com", "windows.net"],
        ),
        (&["CLOUDFLARE", "CF_"], &["cloudflare.com"]),
        (&["DIGITALOCEAN", "DO_"], &["digitalocean.com"]),
        (&["VERCEL"], &["vercel.com"]),
        (&["NETLIFY"], &["netlify.com"]),
        (&["HEROKU"], &["heroku.com"]),
        (&["SENTRY"], &["sentry.io"]),
        (&["DATADOG", "DD_"], &["datadoghq.com", "datadoghq.eu"]),
        (&["TWILIO"], &["twilio.com"]),
        (&["SENDGRID"], &["sendgrid.com"]),
        (&["MISTRAL"], &["mistral.ai"]),
        (&["GROQ"], &["groq.com"]),
        (&["DEEPSEEK"], &["deepseek.com"]),
        (&["OPENROUTER"], &["openrouter.ai"]),
        (&["TELEGRAM"], &["telegram.org"]),
        (&["DISCORD"], &["discord.com"]),
        (&["LINEAR"], &["linear.app"]),
        (&["NOTION"], &["notion.com", "notion.so"]),
        (
            &["JIRA", "ATLASSIAN", "CONFLUENCE"],
            &["atlassian.net", "atlassian.com"],
        ),
        (&["BITBUCKET"], &["bitbucket.org"]),
        (&["CODECOV"], &["codecov.io"]),
    ];
    let upper = name.to_ascii_uppercase();
    SERVICES
        .iter()
        .find(|(prefixes, _)| prefixes.iter().any(|p| upper.starts_with(p)))
        .map(|(_, domains)| *domains)
}

/// Paste, tunnel and request-capture services: where stolen data is sent.
fn is_sink(host: &str) -> bool {
    const SINKS: &[&str] = &[
        "webhook.site",
        "requestbin",
        "pipedream.net",
        "ngrok",
        "interact.sh",
        "oast.",
        "burpcollaborator",
        "pastebin",
        "transfer.sh",
        "hookbin",
        "beeceptor",
        "requestcatcher",
        "canarytokens",
        "trycloudflare.com",
        "serveo.net",
        "loca.lt",
        "termbin",
        "0x0.st",
        "paste.",
    ];
    SINKS.iter().any(|s| host.contains(s))
}

fn is_public_ip(host: &str) -> bool {
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            !(ip.is_private() || ip.is_loopback() || ip.is_link_local() || ip.is_unspecified())
        }
        Ok(std::net::IpAddr::V6(ip)) => !(ip.is_loopback() || ip.is_unspecified()),
        Err(_) => false,
    }
}

/// HTTP clients, whose words are headers, bodies and URLs.
const HTTP: &[&str] = &["curl", "wget", "http", "https", "xh", "xhs", "aria2c"];

/// Checks the tokens a network tool (`name`) carries in its words or stdin.
pub fn check_sink(name: &str, args: &[Arg], stdin: &Flow) -> Check<()> {
    // Clients that use their credentials themselves (`aws`, `rclone`) or log in (`ssh`).
    if matches!(
        name,
        "ssh" | "scp" | "sftp" | "rsync" | "aws" | "gsutil" | "rclone" | "s3cmd"
    ) {
        return Ok(());
    }
    let hosts = hosts(name, args);
    // A request to this machine sends nothing anywhere.
    if HTTP.contains(&name) && !hosts.is_empty() && hosts.iter().all(|h| is_loopback(h)) {
        return Ok(());
    }
    if stdin.token.is_some() {
        return Err(SECRET.to_string());
    }
    for (i, arg) in args.iter().enumerate().skip(1) {
        let Some(token) = &arg.flow.token else {
            continue;
        };
        let domains = service_domains(token);
        let header = in_header(name, args, i) || in_userinfo(&arg.text);
        // Its own service may take a token in the URL too (`?key=$GOOGLE_API_KEY`,
        // `/bot$TELEGRAM_BOT_TOKEN/…`); a token of unknown service only in a header.
        let in_url = arg.text.contains("://") && domains.is_some();
        if !HTTP.contains(&name) || !(header || in_url) {
            return Err(TOKEN_PLACE.to_string());
        }
        let foreign = match domains {
            Some(domains) => hosts.iter().any(|h| !on_domains(h, domains)),
            None => hosts.iter().any(|h| is_sink(h) || is_public_ip(h)),
        };
        if foreign {
            return Err(TOKEN_PLACE.to_string());
        }
    }
    Ok(())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Tokens in git remote URLs (`https://x:$GITLAB_TOKEN@gitlab.com/…`) follow the same rule.
pub fn check_urls(args: &[Arg]) -> Check<()> {
    for arg in args.iter().filter(|a| a.text.contains("://")) {
        let Some(token) = &arg.flow.token else {
            continue;
        };
        let host = url_host(&arg.text).unwrap_or_default();
        let ok = in_userinfo(&arg.text)
            && match service_domains(token) {
                Some(domains) => on_domains(&host, domains),
                None => !(is_sink(&host) || is_public_ip(&host)),
            };
        if !ok {
            return Err(TOKEN_PLACE.to_string());
        }
    }
    Ok(())
}

fn on_domains(host: &str, domains: &[&str]) -> bool {
    domains
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}
