//! Latency of every console page and of search under load:
//! `cargo bench -p server --bench pages [large|demo]` (or `cargo xtask bench pages`).
//!
//! The sandbox serves the seeded organisation (100,000 users at `large`); one full refresh
//! (Identity Center and Entra's scope, quotas ×20) fills a SQLite store; Identity Center's
//! service-provider metadata is entered (as the demo does) and the connection checklist is
//! verified; then the server's own router serves on a loopback port, a security
//! admin signs in through the sandbox IdP, and Debian's `wrk` (100 connections, two threads,
//! 10 s per address) requests each page with that session. Printed per address: first the
//! page alone (one client, one request at a time: p50/p99 and its size), then under load
//! requests/s, p50/p99 latency, and non-2xx answers or socket errors (which must be zero).
//! Pages are kept in memory between changes, so requesting one address again and again measures
//! pages answered from memory; the last row, `/users?q=<typed>`, is search as typed: each
//! request another prefix of a real name in one of the list's orders, mostly not kept.
//! Arguments after the size keep only the addresses that contain one of them
//! (`… --bench pages large /users /seats`; `=/` keeps exactly `/`). With
//! `TESSERA_BENCH_KEEP=<dir>` each page's last answer in the one-at-a-time pass is written
//! there (`users_q=a.html`), to read what its bytes are; with `TESSERA_BENCH_HOLD=<seconds>`
//! the server keeps serving that long after the run, its address and session cookie printed.

use std::num::NonZeroU32;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use connectors::entra::{EntraReader, EntraSettings};
use connectors::identity_center::{Reader, Settings};
use connectors::scope::IdpReader;
use domain::fuse::FuseLimit;
use sandbox::aws::limits::Limits;
use sandbox::aws::sigv4::StaticCredentials;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};
use server::refresh::Refresher;

/// The allocator the `tessera` binary uses (`server/src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const QUOTA: u32 = 400;
const CONNECTIONS: &str = "100";
const SECONDS: &str = "10s";
/// Requests per address in the one-at-a-time pass.
const ALONE: usize = 200;
/// The row of search as typed (a wrk script asks for another search each request).
const TYPED: &str = "/users?q=<typed>";
/// The wrk script part that makes each client wait 100 ms between requests.
const PACED: &str = "function delay()\n  return 100\nend\n";

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail("runtime", e));
    // `[size] [address filter …]`: the filters keep the addresses that contain one of them.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let size = args.first().cloned().unwrap_or_else(|| "large".into());
    let only: Vec<String> = args.iter().skip(1).cloned().collect();
    if Command::new("wrk").arg("--version").output().is_err() {
        fail("wrk", "not installed: apt-get install wrk");
    }
    let site = std::env::var("TESSERA_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    runtime.block_on(run(&size, &site, &only));
}

async fn run(size: &str, site: &str, only: &[String]) {
    let spec = SeedSpec::named(size).unwrap_or_else(|| fail("size", size));
    let org = Organisation::generate(&spec).unwrap_or_else(|e| fail("seed", e));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| fail("listen", e));
    let addr = listener.local_addr().unwrap_or_else(|e| fail("listen", e));
    let origin = format!("http://{addr}");
    let quota = NonZeroU32::new(QUOTA).unwrap_or(NonZeroU32::MIN);
    let sandbox = RunningSandbox::start_organisation(
        org,
        SandboxConfig {
            limits: Limits {
                identitystore_per_operation: quota,
                ssoadmin_total: quota,
                ..Limits::default()
            },
            graph_per_second: NonZeroU32::new(QUOTA * 10).unwrap_or(NonZeroU32::MIN),
            sign_in_redirect_uris: vec![
                format!("{origin}/auth/callback"),
                format!("{origin}/auth/signed-out"),
            ],
            ..SandboxConfig::default()
        },
    )
    .await
    .unwrap_or_else(|e| fail("sandbox", e));
    let entra = sandbox
        .entra()
        .unwrap_or_else(|| fail("sandbox", "no Entra"));
    let entra_reader = || {
        EntraReader::new(EntraSettings {
            login_url: sandbox.login_base(),
            graph_url: sandbox.graph_base(),
            ..EntraSettings::new(
                &entra.state.tenant_id(),
                &entra.app.client_id,
                &entra.app.client_secret,
            )
        })
        .unwrap_or_else(|e| fail("Entra reader", e))
    };
    let dir = std::env::temp_dir().join(format!("tessera-pages-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let url = format!("sqlite://{}/bench.db", dir.display());
    let store = store::Store::connect(&url, &store::ConnectOptions::default())
        .await
        .unwrap_or_else(|e| fail("store", e));
    store.migrate().await.unwrap_or_else(|e| fail("migrate", e));
    store
        .record_start("bench", Utc::now())
        .await
        .unwrap_or_else(|e| fail("store", e));

    let creds = StaticCredentials::default();
    let reader = Reader::connect(Settings {
        endpoint_url: Some(sandbox.aws_endpoint()),
        static_keys: Some((creds.access_key_id, creds.secret_access_key)),
        identitystore_per_second: QUOTA,
        ssoadmin_per_second: QUOTA,
        ..Settings::new("eu-west-1")
    })
    .await;
    let started = Instant::now();
    let refresher = Refresher::new(store.clone(), reader, FuseLimit::default())
        .with_idp(IdpReader::Entra(entra_reader()));
    let r = refresher
        .refresh_once(Utc::now)
        .await
        .unwrap_or_else(|e| fail("refresh", e));
    println!(
        "refresh {size}: {} users, {} groups, {} memberships in {:.1} s",
        r.users,
        r.groups,
        r.memberships,
        started.elapsed().as_secs_f64()
    );

    // The server as `tessera serve` builds it, on the bound port.
    let mut config = server::config::Config::default();
    config.server.listen = addr;
    config.server.site_root = site.into();
    let demo = server::startup::DemoSignIn {
        issuer: format!("{}/{}/v2.0", sandbox.login_base(), entra.state.tenant_id()),
        client_id: entra.app.client_id.clone(),
        client_secret: entra.app.client_secret.clone(),
    };
    config.auth = server::startup::demo_auth(&config, &demo);
    let sign_in = server::auth::SignIn::discover(&config.auth, &origin, store.clone())
        .await
        .unwrap_or_else(|e| fail("sign-in", e));
    // Identity Center's service-provider metadata, entered as an admin would (as the demo
    // does): the overview and Connection then read a configured deployment's checklist.
    let sp_metadata = sandbox
        .state()
        .instance
        .read()
        .map(|i| sandbox::saml::service_provider_metadata(&i.saml_service_provider()))
        .unwrap_or_else(|_| fail("sandbox", "the instance's lock is poisoned"));
    store
        .set_connection_setting(
            store::setting::SP_METADATA,
            &sp_metadata,
            "bench",
            Utc::now(),
        )
        .await
        .unwrap_or_else(|e| fail("metadata", e));
    let checker = Arc::new(
        server::connection::ConnectionChecker::new(
            store.clone(),
            Some(IdpReader::Entra(entra_reader())),
            None,
            5.0,
        )
        .unwrap_or_else(|e| fail("checker", e)),
    );
    checker
        .verify(Utc::now())
        .await
        .unwrap_or_else(|e| fail("verify", e));
    let state = app::state::AppState {
        leptos_options: server::startup::leptos_options(&config),
        store: store.clone(),
        started_at: Utc::now(),
        version: "bench",
        mode: "bench",
        form_action: sign_in.idp_origin(),
        refresh: None,
        seat_price: server::startup::seat_price(&config),
        connection: Some(checker as Arc<dyn app::state::ConnectionControl>),
        secrets: None,
        leads: None,
    };
    let security = server::http::Security {
        sign_in: Arc::new(sign_in),
        sessions: store
            .sessions()
            .await
            .unwrap_or_else(|e| fail("sessions", e)),
    };
    let app = server::http::router(state, security);
    tokio::spawn(async move {
        let _ = axum::serve(
            server::http::listener(listener),
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });

    let cookie = sign_in_as(&origin, "security-admin").await;
    // One user and one group with members, and search prefixes that match some users.
    let user = store
        .users(&store::UserQuery {
            limit: 1,
            ..store::UserQuery::default()
        })
        .await
        .unwrap_or_else(|e| fail("users", e));
    let first = user
        .rows
        .first()
        .unwrap_or_else(|| fail("users", "none stored"));
    let prefix: String = first.user_name.chars().take(3).collect();
    // The first letter typed: a search that matches tens of thousands.
    let letter: String = first.user_name.chars().take(1).collect();
    let group = store
        .groups(&store::GroupQuery {
            limit: 1,
            ..store::GroupQuery::default()
        })
        .await
        .unwrap_or_else(|e| fail("groups", e));
    let group = group
        .rows
        .first()
        .unwrap_or_else(|| fail("groups", "none stored"));
    // Search as typed: prefixes of the names people are called by (the parts of user names
    // spread over the whole list), each request another one in one of the list's orders, so
    // that most pages asked for are not kept from an earlier request (`store/src/kept.rs`).
    let mut typed: Vec<String> = Vec::new();
    for offset in (0..user.total).step_by(2_000) {
        let page = store
            .users(&store::UserQuery {
                offset,
                limit: 20,
                ..store::UserQuery::default()
            })
            .await
            .unwrap_or_else(|e| fail("users", e));
        for row in page.rows {
            let local = row.user_name.split('@').next().unwrap_or_default();
            for part in local.split(['.', '_', '-']) {
                let letters: String = part.chars().take_while(char::is_ascii_alphabetic).collect();
                typed.extend((2..=letters.len()).map(|n| letters[..n].to_lowercase()));
            }
        }
    }
    typed.sort_unstable();
    typed.dedup();
    let typed_script = |delay: bool| {
        let quoted: Vec<String> = typed.iter().map(|p| format!("\"{p}\"")).collect();
        format!(
            "local prefixes = {{{}}}\n\
             local sorts = {{\"user_name\", \"display_name\", \"email\", \"first_seen\"}}\n\
             local dirs = {{\"asc\", \"desc\"}}\n\
             request = function()\n\
             \x20 local path = \"/users?q=\" .. prefixes[math.random(#prefixes)] .. \"&sort=\" .. sorts[math.random(4)] .. \"&dir=\" .. dirs[math.random(2)]\n\
             \x20 return wrk.format(\"GET\", path)\n\
             end\n{}",
            quoted.join(", "),
            if delay { PACED } else { "" }
        )
    };
    let addresses = [
        "/".to_string(),
        "/connection".into(),
        "/users".into(),
        format!("/users?q={prefix}"),
        format!("/users?q={letter}"),
        "/users?seat=yes&sort=email".into(),
        // Every user of a refresh shares its first-seen moment: the sort's tie-break (the id)
        // is what orders the page.
        "/users?sort=first_seen&dir=desc".into(),
        format!("/users/{}", first.id),
        "/groups".into(),
        format!("/groups/{}", group.id),
        "/drift".into(),
        "/seats".into(),
        "/history".into(),
        TYPED.into(),
    ];
    let addresses: Vec<String> = addresses
        .into_iter()
        .filter(|a| {
            only.is_empty()
                || only.iter().any(|o| match o.strip_prefix('=') {
                    Some(exact) => a == exact,
                    None => a.contains(o.as_str()),
                })
        })
        .collect();
    // Each page alone first: one client, one request at a time (what the page itself costs,
    // without any queue).
    println!("\none client, one request at a time: {ALONE} requests per address");
    println!("| address | p50 | p99 | bytes |");
    println!("|---|---|---|---|");
    for path in addresses.iter().filter(|a| *a != TYPED) {
        alone(&origin, path, &cookie).await;
    }
    // Two passes: each client sends its next request as soon as the last is answered (the
    // harshest reading of "100 concurrent clients": latency is then 100 / throughput whatever
    // the page costs), and each client waits 100 ms between requests (people clicking, still
    // far more than a console sees), where latency is the page's own time plus little queueing.
    let script = |name: &str, text: String| {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap_or_else(|e| fail("wrk script", e));
        file
    };
    let paced = script("paced.lua", PACED.to_string());
    let typed_back = script("typed.lua", typed_script(false));
    let typed_paced = script("typed_paced.lua", typed_script(true));
    println!(
        "\n`{TYPED}`: {} prefixes × 4 sorts × 2 directions, {} pages against {} kept",
        typed.len(),
        typed.len() * 8,
        store::KEPT_READS
    );
    for (pass, script, typed) in [
        ("back to back", None, &typed_back),
        ("100 ms between requests", Some(&paced), &typed_paced),
    ] {
        println!(
            "\nwrk, {pass}: {CONNECTIONS} connections, 2 threads, {SECONDS} per address, signed in as a security admin"
        );
        println!("| address | requests/s | p50 | p99 | non-2xx / socket errors |");
        println!("|---|---|---|---|---|");
        for path in &addresses {
            if path == TYPED {
                measure(&origin, path, "/users", &cookie, Some(typed)).await;
            } else {
                measure(&origin, path, path, &cookie, script).await;
            }
        }
    }
    // `TESSERA_BENCH_HOLD=<seconds>`: keep serving that long after the run, with the address
    // and the session cookie printed, to look at a page by hand (curl, wrk, perf).
    if let Some(hold) = std::env::var("TESSERA_BENCH_HOLD")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        println!("\nholding {hold} s: {origin} with Cookie: {cookie}");
        tokio::time::sleep(std::time::Duration::from_secs(hold)).await;
    }
    store.close().await;
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Requests `path` [`ALONE`] times one after the other; prints the median and p99 latency.
async fn alone(origin: &str, path: &str, cookie: &str) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| fail("client", e));
    let mut took = Vec::with_capacity(ALONE);
    let mut last = None;
    for _ in 0..ALONE {
        let started = Instant::now();
        let response = client
            .get(format!("{origin}{path}"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap_or_else(|e| fail(path, e));
        if !response.status().is_success() {
            fail(path, response.status());
        }
        let body = response.bytes().await.unwrap_or_else(|e| fail(path, e));
        took.push(started.elapsed());
        last = Some(body);
    }
    let last = last.unwrap_or_default();
    if let Some(dir) = std::env::var_os("TESSERA_BENCH_KEEP") {
        let name: String = path
            .trim_start_matches('/')
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '=' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = if name.is_empty() {
            "overview".into()
        } else {
            name
        };
        let file = std::path::Path::new(&dir).join(format!("{name}.html"));
        std::fs::write(&file, &last).unwrap_or_else(|e| fail("keep", e));
    }
    took.sort_unstable();
    let at = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize];
    println!(
        "| `{path}` | {:.2}ms | {:.2}ms | {} |",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        last.len()
    );
}

/// One wrk run against one address, printed as a table row.
async fn measure(
    origin: &str,
    label: &str,
    path: &str,
    cookie: &str,
    script: Option<&std::path::PathBuf>,
) {
    let out = tokio::task::spawn_blocking({
        let url = format!("{origin}{path}");
        let cookie = cookie.to_string();
        let script = script.cloned();
        move || {
            let mut wrk = Command::new("wrk");
            wrk.args(["-t2", "-c", CONNECTIONS, "-d", SECONDS, "--latency"])
                .args(["-H", &format!("Cookie: {cookie}")]);
            if let Some(script) = script {
                wrk.arg("-s").arg(script);
            }
            wrk.arg(&url).output()
        }
    })
    .await
    .unwrap_or_else(|e| fail("wrk", e))
    .unwrap_or_else(|e| fail("wrk", e));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let p50 = line("50%").get(1).map_or("?".into(), |s| s.to_string());
    let p99 = line("99%").get(1).map_or("?".into(), |s| s.to_string());
    let rps = line("Requests/sec:")
        .get(1)
        .map_or("?".into(), |s| s.to_string());
    let non2xx = line("Non-2xx").last().map_or("0".into(), |s| s.to_string());
    let socket = line("Socket errors:").join(" ");
    println!(
        "| `{label}` | {rps} | {p50} | {p99} | {non2xx} / {} |",
        if socket.is_empty() {
            "0".to_string()
        } else {
            socket
        }
    );
}

/// Signs `persona` in through the sandbox IdP's login page; the session cookie.
async fn sign_in_as(origin: &str, persona: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| fail("client", e));
    let cookie_of = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|c| c.to_str().ok())
            .filter_map(|c| c.split(';').next())
            .find(|c| c.starts_with("tessera_session="))
            .map(str::to_string)
    };
    let start = browser
        .get(format!("{origin}/auth/sign-in?next=/"))
        .send()
        .await
        .unwrap_or_else(|e| fail("sign-in", e));
    let before = cookie_of(&start).unwrap_or_else(|| fail("sign-in", "no session"));
    let authorize = start
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_else(|| fail("sign-in", "no redirect"))
        .to_string();
    let html = browser
        .get(&authorize)
        .send()
        .await
        .unwrap_or_else(|e| fail("login page", e))
        .text()
        .await
        .unwrap_or_else(|e| fail("login page", e));
    let request = html
        .split("name=\"request\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| fail("login page", "no form"))
        .to_string();
    let mut form_url = reqwest::Url::parse(&authorize).unwrap_or_else(|e| fail("url", e));
    form_url.set_query(None);
    let back = browser
        .post(form_url.as_str())
        .form(&[("request", request.as_str()), ("persona", persona)])
        .send()
        .await
        .unwrap_or_else(|e| fail("login", e));
    let callback = back
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_else(|| fail("login", "no redirect"))
        .to_string();
    let done = browser
        .get(&callback)
        .header("cookie", &before)
        .send()
        .await
        .unwrap_or_else(|e| fail("callback", e));
    cookie_of(&done).unwrap_or_else(|| fail("callback", "no new session"))
}
