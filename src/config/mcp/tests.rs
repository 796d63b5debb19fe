use super::*;
use crate::config::file::FileSettings;

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn expand_replaces_variables_and_defaults() {
    let env = env_of(&[("HOME", "/h"), ("EMPTY", "")]);
    assert_eq!(expand("${HOME}/x", &env), "/h/x");
    assert_eq!(expand("${NOPE:-fallback}", &env), "fallback");
    assert_eq!(expand("${EMPTY:-used}", &env), "used");
    assert_eq!(expand("${NOPE}", &env), "");
    assert_eq!(
        expand("$HOME ${bad name} ${open", &env),
        "$HOME ${bad name} ${open"
    );
    assert_eq!(expand("a${HOME:-z}b${HOME}", &env), "a/hb/h");
}

fn files(project: &str, user: &str) -> ConfigFiles {
    let mut p: FileSettings = toml::from_str(project).unwrap();
    p.project_file = true;
    p.origin = "/proj/.corecoder.toml".into();
    let mut u: FileSettings = toml::from_str(user).unwrap();
    u.origin = "/home/u/.config/corecoder/config.toml".into();
    ConfigFiles::new(vec![p, u])
}

#[test]
fn sources_are_read_in_precedence_order_and_never_merged() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".mcp.json"),
        r#"{"mcpServers": {
            "a": {"command": "from-json"},
            "web": {"type": "http", "url": "https://x/${TEAM:-core}/mcp", "headers": {"X": "${TOKEN}"}},
            "old": {"type": "sse", "url": "https://x/sse"}
        }}"#,
    )
    .unwrap();
    std::fs::create_dir_all(home.path().join(".corecoder")).unwrap();
    std::fs::write(
        home.path().join(".corecoder/mcp.json"),
        r#"{"mcpServers": {"web": {"command": "legacy"}, "legacy": {"command": "l", "args": ["-x"]}}}"#,
    )
    .unwrap();
    let files = files(
        "[mcp_servers.a]\ncommand = \"project\"\nargs = [\"${HOME}\"]\ntool_timeout_sec = 5\n",
        "[mcp_servers.a]\ncommand = \"user\"\nenv = { K = \"v\" }\n\
         [mcp_servers.off]\ncommand = \"x\"\nenabled = false\n\
         [mcp_servers.gh]\nurl = \"https://gh/mcp\"\nbearer_token_env_var = \"TOKEN\"\n",
    );
    let env = env_of(&[("HOME", "/h"), ("TOKEN", "t0k")]);
    let got = load(&files, dir.path(), Some(home.path()), &env, &env).unwrap();
    let names: Vec<&str> = got.servers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "gh", "web", "legacy"]);
    let a = &got.servers[0];
    assert_eq!(
        a.transport,
        Transport::Stdio {
            command: "project".into(),
            args: vec!["/h".into()],
            env: BTreeMap::new(),
            cwd: None
        }
    );
    assert_eq!(a.tool_timeout, Duration::from_secs(5));
    assert!(a.source.is_project());
    let Transport::Http { headers, .. } = &got.servers[1].transport else {
        panic!("gh is http")
    };
    assert_eq!(headers.get("Authorization").unwrap(), "Bearer t0k");
    assert!(!got.servers[1].source.is_project());
    assert_eq!(
        got.servers[2].transport,
        Transport::Http {
            url: "https://x/core/mcp".into(),
            headers: [("X".to_string(), "t0k".to_string())].into()
        }
    );
    assert!(got.servers[2].source.is_project());
    assert!(!got.servers[3].source.is_project());
    assert_eq!(got.notices.len(), 1, "{:?}", got.notices);
    assert!(got.notices[0].contains("old SSE transport"));
}

#[test]
fn a_broken_json_file_names_itself_and_a_bad_toml_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".mcp.json"), "{not json").unwrap();
    let err = load(
        &ConfigFiles::default(),
        dir.path(),
        None,
        &|_| None,
        &|_| None,
    )
    .unwrap_err();
    assert!(err.to_string().contains(".mcp.json"), "{err}");
    let bad: Result<FileSettings, _> = toml::from_str("[mcp_servers.a]\ncomand = \"x\"\n");
    assert!(bad.unwrap_err().to_string().contains("comand"));
}

#[test]
fn enabled_and_disabled_tools_filter_what_a_server_offers() {
    let files = files(
        "",
        "[mcp_servers.s]\ncommand = \"x\"\nenabled_tools = [\"a\", \"b\"]\ndisabled_tools = [\"b\"]\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let got = load(&files, dir.path(), None, &|_| None, &|_| None).unwrap();
    let s = &got.servers[0];
    assert!(s.offers("a") && !s.offers("b") && !s.offers("c"));
    assert_eq!(s.startup_timeout, DEFAULT_STARTUP_TIMEOUT);
}

#[test]
fn a_projects_file_expands_with_its_own_lookup_and_the_users_with_the_full_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".mcp.json"),
        r#"{"mcpServers": {"p": {"command": "x", "args": ["${SECRET_TOKEN}", "${HOME}"]}}}"#,
    )
    .unwrap();
    let files = files("", "[mcp_servers.u]\ncommand = \"${SECRET_TOKEN}\"\n");
    let full = env_of(&[("HOME", "/h"), ("SECRET_TOKEN", "s3cret")]);
    let narrow = env_of(&[("HOME", "/h")]);
    let got = load(&files, dir.path(), None, &full, &narrow).unwrap();
    let target = |n: &str| got.servers.iter().find(|s| s.name == n).unwrap().target();
    assert_eq!(target("u"), "s3cret");
    assert_eq!(target("p"), "x  /h");
}
