//! Reading an HTTP client's words: which are headers (`-H`, `-u`, httpie `Name:value`),
//! which hold a URL's credentials, and which hosts a request goes to.

use super::super::flow::Arg;
use super::HTTP;

/// Whether word `i` is a header (or basic-auth) value: `-H V`, `--header=V`, `-u V`,
/// `--oauth2-bearer V`, or an httpie `Name:value` item.
pub(super) fn in_header(name: &str, args: &[Arg], i: usize) -> bool {
    const FLAGS: &[&str] = &[
        "-H",
        "--header",
        "-u",
        "--user",
        "--oauth2-bearer",
        "-b",
        "--cookie",
        "--proxy-header",
        "-a",
        "--auth",
        "--http-password",
        "--password",
    ];
    let text = &args[i].text;
    let previous = args.get(i - 1).map_or("", |a| a.text.as_str());
    // `-sH 'Authorization: …'`: a cluster of short flags ending in the header flag.
    let cluster_ends = |c: char| {
        previous.len() > 2
            && !previous.starts_with("--")
            && previous.starts_with('-')
            && previous.ends_with(c)
    };
    if FLAGS.contains(&previous) || cluster_ends('H') || cluster_ends('u') {
        return true;
    }
    if FLAGS
        .iter()
        .filter(|f| f.starts_with("--"))
        .any(|f| text.starts_with(&format!("{f}=")))
        || (text.starts_with("-H") && text.len() > 2)
    {
        return true;
    }
    // httpie and xh: `Name:value` is a header, `name:=json` a body field.
    let item = matches!(name, "http" | "https" | "xh" | "xhs");
    item && !text.starts_with('-')
        && text.split_once(':').is_some_and(|(key, value)| {
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !value.starts_with('=')
                && !value.starts_with("//")
        })
}

/// `scheme://user:TOKEN@host/…`: the token is the credential part of the URL.
pub(super) fn in_userinfo(text: &str) -> bool {
    let Some((_, rest)) = text.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .is_some_and(|(user, _)| user.contains('$'))
}

/// The host of a URL word.
pub(super) fn url_host(text: &str) -> Option<String> {
    let rest = text.split_once("://").map_or(text, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    Some(host.to_ascii_lowercase()).filter(|h| !h.is_empty())
}

/// Hosts named literally in an HTTP client's words: URLs, and bare `host.tld/path` words
/// that are not a flag's value. A host held in a variable is unknown and not listed.
pub(super) fn hosts(name: &str, args: &[Arg]) -> Vec<String> {
    const VALUE_FLAGS: &[&str] = &[
        "-d",
        "--data",
        "--data-raw",
        "--data-binary",
        "--data-urlencode",
        "--json",
        "-H",
        "--header",
        "-u",
        "--user",
        "-o",
        "--output",
        "-X",
        "--request",
        "-A",
        "--user-agent",
        "-e",
        "--referer",
        "-b",
        "--cookie",
        "-c",
        "--cookie-jar",
        "-F",
        "--form",
        "-T",
        "--upload-file",
        "-w",
        "--write-out",
        "-K",
        "--config",
        "-x",
        "--proxy",
        "-U",
        "--proxy-user",
        "-E",
        "--cert",
        "--key",
        "--cacert",
        "-r",
        "--range",
        "-m",
        "--max-time",
        "--connect-timeout",
        "--retry",
        "-D",
        "--dump-header",
        "-O",
        "-P",
        "--post-data",
        "--post-file",
        "--body-data",
        "--method",
        "-a",
        "--auth",
        "--session",
        "--oauth2-bearer",
        "--resolve",
        "--connect-to",
    ];
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate().skip(1) {
        let text = &arg.text;
        let previous = args.get(i - 1).map_or("", |a| a.text.as_str());
        // `-sSLo out.json`: a short cluster ending in a flag that takes a value.
        let cluster_value = previous.len() > 2
            && previous.starts_with('-')
            && !previous.starts_with("--")
            && previous
                .chars()
                .last()
                .is_some_and(|c| VALUE_FLAGS.contains(&format!("-{c}").as_str()));
        let bare_host = HTTP.contains(&name)
            && !text.starts_with(['-', '@', '$', '.', '/', '~'])
            && !VALUE_FLAGS.contains(&previous)
            && !cluster_value
            && looks_like_host(text);
        if text.contains("://") || bare_host {
            out.extend(url_host(text));
        }
    }
    out.retain(|h| !h.starts_with('$'));
    out
}

fn looks_like_host(word: &str) -> bool {
    let host = word.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    !word.contains(['=', ' ', '@'])
        && (host == "localhost"
            || (host.contains('.')
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                && host.rsplit('.').next().is_some_and(|tld| {
                    tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
                })))
}
