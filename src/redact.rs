//! Credentials in URLs are never shown: `http://user:password@host` and `?api_key=…` become
//! `http://[redacted]@host` and `?api_key=[redacted]` in every message that names a URL.

use regex::Regex;

/// `text` with the userinfo of every URL and every credential-looking query value redacted.
pub fn redact_urls(text: &str) -> String {
    // Built per call: messages that name a URL are rare (errors, the banner), and a static
    // would be a global.
    let userinfo = Regex::new(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@]+@").ok();
    let query = Regex::new(
        r"(?i)([?&][^=&\s]*(?:key|token|secret|password|passwd|pwd|sig|signature|auth|code)[^=&\s]*=)[^&\s)\]]+",
    )
    .ok();
    let mut out = text.to_string();
    if let Some(re) = userinfo {
        out = re.replace_all(&out, "${1}[redacted]@").into_owned();
    }
    if let Some(re) = query {
        out = re.replace_all(&out, "${1}[redacted]").into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_query_tokens_are_redacted() {
        assert_eq!(
            redact_urls("could not reach http://user:pa55@host:8080/v1/chat (refused)"),
            "could not reach http://[redacted]@host:8080/v1/chat (refused)"
        );
        assert_eq!(
            redact_urls("https://h/v1?api_key=sk-123&model=x&access_token=t0k"),
            "https://h/v1?api_key=[redacted]&model=x&access_token=[redacted]"
        );
        assert_eq!(
            redact_urls("https://api.openai.com/v1"),
            "https://api.openai.com/v1"
        );
        assert_eq!(redact_urls("mail me at a@b.c"), "mail me at a@b.c");
    }
}
