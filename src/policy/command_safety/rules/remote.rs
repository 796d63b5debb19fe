//! Irreversible remote actions, only the unambiguous ones: force-pushing or deleting a main
//! branch, publishing a package, deleting a repository or release, destroying
//! infrastructure, clusters, buckets and projects, pruning data volumes, and dropping or
//! flushing whole databases. Everyday forms stay allowed: `git push -f` to a feature branch,
//! `npm publish --dry-run`, `terraform plan`, `kubectl delete pod x`, `docker image prune`,
//! and table-level SQL against a local database.

use super::split_flags;

pub const REMOTE: &str = "this destroys remote state or publishes irreversibly (force-push \
     to a main branch, publishing a package, deleting cloud resources or databases); ask the \
     user to run it themselves";

/// Branches whose history others build on.
const PROTECTED: &[&str] = &["main", "master", "trunk", "production", "prod"];

/// Whether a branch is one others build on.
pub fn is_protected(branch: &str) -> bool {
    PROTECTED.contains(&branch)
}

/// Checks one plain command against the remote rules. `args[0]` is the command name.
pub fn check(name: &str, args: &[String]) -> Result<(), String> {
    let rest = args.get(1..).unwrap_or_default();
    let (short, long, pos) = split_flags(rest);
    let has = |w: &str| rest.iter().any(|a| a == w);
    let dry = long
        .iter()
        .any(|l| *l == "dry-run" || (l.starts_with("dry-run=") && !l.ends_with("false")));
    let first = pos.first().copied().unwrap_or_default();
    let second = pos.get(1).copied().unwrap_or_default();
    let after = |verb: &str| pos.iter().position(|p| *p == verb).map(|i| &pos[i + 1..]);
    let destroys = match name {
        "git" => {
            let sub = crate::policy::writes::git_subcommand(rest);
            sub.first().is_some_and(|s| s == "push") && git_push(&sub[1..])
        }
        "npm" | "pnpm" | "bun" => (first == "publish" && !dry) || first == "unpublish",
        "yarn" => {
            (first == "publish"
                || (first == "npm" && second == "publish")
                || (first == "workspaces" && pos.contains(&"publish")))
                && !dry
        }
        "cargo" => first == "publish" && !dry && !short.contains('n'),
        "twine" => first == "upload",
        "gem" => first == "push",
        "poetry" | "uv" => first == "publish" && !dry,
        "flit" | "hatch" | "vsce" | "ovsx" => first == "publish",
        "dotnet" => first == "nuget" && second == "push",
        "nuget" => first == "push",
        "mix" => first == "hex.publish",
        "pod" => first == "trunk" && second == "push",
        "dart" | "flutter" => first == "pub" && second == "publish" && !dry && !short.contains('n'),
        "gh" => gh(&pos, rest),
        "glab" => first == "repo" && second == "delete",
        "eksctl" => first == "delete" && second == "cluster",
        "serverless" | "sls" => first == "remove",
        "supabase" => first == "db" && second == "reset" && long.contains(&"linked"),
        "terraform" | "tofu" | "terragrunt" => {
            pos.contains(&"destroy")
                || (pos.contains(&"apply") && (has("-destroy") || has("--destroy")))
                // Forgetting or overwriting what the state knows orphans or destroys resources.
                || (first == "state" && matches!(second, "rm" | "push"))
                || (first == "workspace" && second == "delete")
        }
        "pulumi" => first == "destroy" || (first == "stack" && second == "rm"),
        "cdk" | "cdktf" => first == "destroy",
        "kubectl" | "oc" => after("delete").is_some_and(|objects| {
            let kind = objects.first().copied().unwrap_or_default();
            let kind = kind.split('/').next().unwrap_or_default();
            long.iter().any(|l| *l == "all" || *l == "all-namespaces")
                || short.contains('A')
                || targets_production(rest)
                || matches!(
                    kind,
                    "namespace"
                        | "namespaces"
                        | "ns"
                        | "node"
                        | "nodes"
                        | "no"
                        | "crd"
                        | "crds"
                        | "customresourcedefinition"
                        | "customresourcedefinitions"
                        | "pv"
                        | "persistentvolume"
                        | "persistentvolumes"
                )
        }),
        "helm" => {
            matches!(first, "uninstall" | "delete" | "del" | "un")
                && (rest.windows(2).any(|w| {
                    matches!(w[0].as_str(), "-n" | "--namespace") && w[1] == "kube-system"
                }) || has("--namespace=kube-system")
                    || targets_production(rest))
        }
        // `--acl public-read` publishes the objects.
        "aws" => {
            (!long.contains(&"dryrun") && aws(first, second, &long))
                || rest
                    .iter()
                    .any(|r| r.starts_with("public-read") || r.ends_with("=public-read"))
        }
        "gsutil" => (pos.contains(&"rm") && short.contains(['r', 'R', 'a'])) || pos.contains(&"rb"),
        "gcloud" => gcloud(&pos, &short, &long),
        "az" => {
            const SERVICES: &[&str] = &[
                "group",
                "vm",
                "aks",
                "sql",
                "storage",
                "webapp",
                "functionapp",
                "keyvault",
                "cosmosdb",
                "postgres",
                "mysql",
            ];
            SERVICES.contains(&first)
                && pos
                    .iter()
                    .take(4)
                    .any(|p| *p == "delete" || *p == "delete-batch")
        }
        "bq" => first == "rm" && (short.contains('r') || long.contains(&"recursive")),
        "heroku" => matches!(first, "apps:destroy" | "pg:reset"),
        "vercel" | "vc" => matches!(first, "remove" | "rm"),
        "netlify" => first == "sites:delete",
        "doctl" => {
            pos.contains(&"delete")
                && matches!(first, "compute" | "kubernetes" | "databases" | "apps")
        }
        "firebase" => {
            matches!(first, "projects:delete" | "hosting:disable")
                || (first == "firestore:delete"
                    && (long.contains(&"all-collections") || short.contains('r')))
        }
        "fly" | "flyctl" => first == "apps" && matches!(second, "destroy" | "delete"),
        "rclone" => matches!(first, "purge" | "delete"),
        "s3cmd" => {
            first == "rb"
                || (first == "del" && (short.contains('r') || long.contains(&"recursive")))
        }
        "etcdctl" => first == "del" && long.contains(&"prefix"),
        "docker" | "podman" => {
            // Publishing an image, as `npm publish` publishes a package (a local registry
            // is the exception: `localhost:5000/app`).
            let image_push = (first == "push" && !local_registry(second))
                || (first == "image"
                    && second == "push"
                    && !local_registry(pos.get(2).copied().unwrap_or_default()))
                || (pos.contains(&"build") && long.contains(&"push"));
            image_push
                || (first == "system" && second == "prune" && long.contains(&"volumes"))
                || (first == "volume"
                    && second == "prune"
                    && (short.contains('a') || long.contains(&"all")))
        }
        "curl" | "http" | "https" | "xh" => deletes_everything(rest),
        "dropdb" => true,
        "mysqladmin" => pos.iter().any(|p| p.eq_ignore_ascii_case("drop")),
        "redis-cli" | "valkey-cli" | "keydb-cli" => pos
            .iter()
            .any(|p| p.eq_ignore_ascii_case("flushall") || p.eq_ignore_ascii_case("flushdb")),
        _ => false,
    };
    if destroys {
        return Err(REMOTE.to_string());
    }
    Ok(())
}

/// `curl -X DELETE https://api.github.com/repos/o/r` deletes a repository;
/// `curl -XDELETE localhost:9200/_all` (or `/*`) every Elasticsearch index.
fn deletes_everything(rest: &[String]) -> bool {
    let delete = rest.iter().enumerate().any(|(i, a)| {
        a.eq_ignore_ascii_case("-XDELETE")
            || a.eq_ignore_ascii_case("--request=DELETE")
            || a == "DELETE"
            || (matches!(a.as_str(), "-X" | "--request")
                && rest
                    .get(i + 1)
                    .is_some_and(|m| m.eq_ignore_ascii_case("delete")))
    });
    delete
        && rest.iter().any(|url| {
            let path = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
            let path = path
                .split(['?', '#'])
                .next()
                .unwrap_or_default()
                .trim_end_matches('/');
            let segments: Vec<&str> = path.split('/').collect();
            let repo = segments.first() == Some(&"api.github.com")
                && segments.get(1) == Some(&"repos")
                && segments.len() == 4;
            repo || path.ends_with("/_all") || path.ends_with("/*")
        })
}

/// `git push` words after `push`: a force or delete that reaches a protected branch, or a
/// forced push of every branch.
fn git_push(args: &[String]) -> bool {
    let (mut force, mut delete, mut all, mut dry) = (false, false, false, false);
    let mut positional = Vec::new();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        i += 1;
        match a.as_str() {
            "--mirror" => return true,
            "-f" | "--force" | "--force-if-includes" => force = true,
            l if l.starts_with("--force-with-lease") => force = true,
            "-d" | "--delete" => delete = true,
            "--all" | "--branches" => all = true,
            "-n" | "--dry-run" => dry = true,
            "-o" | "--push-option" | "--repo" | "--receive-pack" | "--exec" => i += 1,
            l if l.starts_with("--") => {}
            s if s.starts_with('-') && s.len() > 1 => {
                force |= s.contains('f');
                delete |= s.contains('d');
                dry |= s.contains('n');
            }
            _ => positional.push(a.as_str()),
        }
    }
    if dry {
        return false;
    }
    if all && force {
        return true;
    }
    positional.iter().skip(1).any(|spec| {
        let plus = spec.starts_with('+');
        let spec = spec.trim_start_matches('+');
        let (src, dst) = spec.split_once(':').unwrap_or((spec, spec));
        let branch = dst.strip_prefix("refs/heads/").unwrap_or(dst);
        let removes = force || plus || delete || src.is_empty();
        // A published tag deleted or moved: every consumer's next fetch disagrees.
        (PROTECTED.contains(&branch) || dst.starts_with("refs/tags/")) && removes
    })
}

/// A namespace or context that names production (`-n production`, `--context=prod-eu`).
fn targets_production(rest: &[String]) -> bool {
    let prod = |v: &str| v.to_ascii_lowercase().contains("prod");
    rest.windows(2).any(|w| {
        matches!(
            w[0].as_str(),
            "-n" | "--namespace" | "--context" | "--kube-context"
        ) && prod(&w[1])
    }) || rest.iter().any(|a| {
        ["--namespace=", "--context=", "--kube-context=", "-n="]
            .iter()
            .any(|p| a.strip_prefix(p).is_some_and(prod))
    })
}

/// An image name on a registry on this machine.
fn local_registry(image: &str) -> bool {
    ["localhost:", "localhost/", "127.0.0.1:", "127.0.0.1/"]
        .iter()
        .any(|p| image.starts_with(p))
}

fn gh(pos: &[&str], rest: &[String]) -> bool {
    match (pos.first().copied(), pos.get(1).copied()) {
        (Some("repo"), Some("delete")) | (Some("release"), Some("delete")) => true,
        (Some("repo"), Some("edit")) => {
            rest.windows(2)
                .any(|w| w[0] == "--visibility" && w[1] == "public")
                || rest.iter().any(|r| r == "--visibility=public")
        }
        (Some("api"), _) => {
            let delete = rest.windows(2).any(|w| {
                matches!(w[0].as_str(), "-X" | "--method") && w[1].eq_ignore_ascii_case("delete")
            }) || rest
                .iter()
                .any(|a| a.eq_ignore_ascii_case("--method=delete"));
            // `repos/OWNER/REPO` itself, not an issue or a comment under it.
            let repo = pos.iter().any(|p| {
                let path = p.trim_start_matches('/');
                path.starts_with("repos/") && path.split('/').filter(|s| !s.is_empty()).count() == 3
            });
            delete && repo
        }
        _ => false,
    }
}

fn aws(service: &str, op: &str, long: &[&str]) -> bool {
    match (service, op) {
        ("s3", "rm") => long.contains(&"recursive"),
        ("s3", "rb") => long.contains(&"force"),
        ("ecr", "delete-repository") => long.contains(&"force"),
        ("s3api", "delete-bucket")
        | ("ec2", "terminate-instances" | "delete-volume" | "delete-vpc")
        | ("dynamodb", "delete-table")
        | ("cloudformation", "delete-stack")
        | ("eks", "delete-cluster")
        | ("ecs", "delete-cluster")
        | ("route53", "delete-hosted-zone")
        | ("kms", "schedule-key-deletion")
        | ("efs", "delete-file-system")
        | ("lambda", "delete-function")
        | ("redshift", "delete-cluster")
        | ("iam", "delete-user" | "delete-role")
        | ("elasticache", "delete-cache-cluster" | "delete-replication-group") => true,
        ("rds", op) => op.starts_with("delete-db-instance") || op.starts_with("delete-db-cluster"),
        _ => false,
    }
}

fn gcloud(pos: &[&str], short: &str, long: &[&str]) -> bool {
    let w = |i: usize| pos.get(i).copied().unwrap_or_default();
    let recursive = short.contains(['r', 'R']) || long.contains(&"recursive");
    match (w(0), w(1), w(2)) {
        ("projects", "delete", _) => true,
        ("compute", "disks" | "images" | "snapshots", "delete") => true,
        ("spanner" | "redis" | "bigtable", "instances", "delete") => true,
        ("firestore", "databases", "delete") => true,
        ("storage", "rm", _) => recursive,
        ("storage", "buckets", "delete") => true,
        ("sql", "instances", "delete") => true,
        ("container", "clusters", "delete") => true,
        ("compute", "instances", "delete") => true,
        _ => false,
    }
}

/// SQL, Mongo or Redis text sent to a database: dropping a whole database or schema
/// anywhere, and dropping, truncating or emptying tables on a host that is not this
/// machine. `remote` says whether the client names a host other than the local one.
pub fn check_statements(text: &str, remote: bool) -> Result<(), String> {
    let upper: String = text
        .to_ascii_uppercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let whole = [
        "DROP DATABASE",
        "DROP SCHEMA",
        "DROP KEYSPACE",
        "DROP OWNED",
        "DROPDATABASE(",
        "FLUSHALL",
        "FLUSHDB",
    ];
    let tables = [
        "DROP TABLE",
        "TRUNCATE",
        ".DROP(",
        "DELETEMANY({})",
        "DROP COLLECTION",
    ];
    let empties = upper.contains("DELETE FROM") && !upper.contains("WHERE");
    if whole.iter().any(|w| upper.contains(w))
        || (remote && (empties || tables.iter().any(|t| upper.contains(t))))
    {
        return Err(REMOTE.to_string());
    }
    Ok(())
}

/// Whether a database client's words name a host other than this machine: `-h db.prod`,
/// `--host=…`, a `postgres://`/`mysql://`/`mongodb://`/`redis://` URL, a `host=` conninfo,
/// or a connection string held in a variable (`"$DATABASE_URL"`), which is unknown.
pub fn names_remote_host(args: &[String]) -> bool {
    let local = |h: &str| {
        let h = h.trim_matches(['[', ']']);
        matches!(h, "" | "localhost" | "127.0.0.1" | "::1" | "0.0.0.0") || h.starts_with('/')
    };
    let mut hosts: Vec<String> = Vec::new();
    for (i, a) in args.iter().enumerate().skip(1) {
        let previous = args[i - 1].as_str();
        if matches!(previous, "-h" | "--host" | "-H") {
            hosts.push(a.clone());
        } else if let Some(h) = a.strip_prefix("--host=").or(a.strip_prefix("host=")) {
            hosts.push(h.to_string());
        } else if let Some((_, rest)) = a.split_once("://") {
            let authority = rest.split(['/', '?']).next().unwrap_or_default();
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            hosts.push(host.rsplit_once(':').map_or(host, |(h, _)| h).to_string());
        } else if a.starts_with('$') && !previous.starts_with('-') {
            return true;
        }
    }
    hosts.iter().any(|h| h.starts_with('$') || !local(h))
}
