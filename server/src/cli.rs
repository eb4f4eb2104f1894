//! The command line: `tessera [--config FILE] <serve|demo|sandbox|migrate|check-config>`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::startup::{self, StartupError};

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Tessera: the IdP → IAM Identity Center → Q Developer seat chain in one console",
    after_help = "Configuration: tessera.toml in the working directory (or --config), then \
                  TESSERA_<SECTION>__<KEY> environment variables, e.g. TESSERA_DATABASE__URL."
)]
pub struct Cli {
    /// Configuration file (default: ./tessera.toml when present).
    #[arg(long, global = true, env = "TESSERA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console (the default when no command is given).
    Serve,
    /// Serve the console for a local demo on the embedded SQLite database and print where to go.
    Demo,
    /// Run only the sandbox (emulated IAM Identity Center: AWS APIs and SCIM; Entra ID: token endpoint, Graph, provisioning) until Ctrl-C,
    /// and print its endpoints and credentials.
    Sandbox,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Validate the configuration, print it as JSON (passwords redacted) and exit.
    CheckConfig,
    /// Print a new random key for sealing secrets; keep it in TESSERA_SECRET_KEY.
    SecretKey,
    /// Seal a secret read from standard input for SETTING (auth.client_secret or
    /// idp.client_secret) with TESSERA_SECRET_KEY, and print the value to put in the
    /// configuration instead of the secret.
    Seal {
        /// The setting the secret belongs to.
        setting: String,
    },
}

/// Parses the arguments, runs the command and turns failures into a message and an exit code
/// (2 for configuration errors, 1 for everything else).
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    // Key commands need no configuration (the secrets in it may not open yet).
    match &cli.command {
        Some(Command::SecretKey) => return secret_key(),
        Some(Command::Seal { setting }) => return seal(setting),
        _ => {}
    }
    let config = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("tessera: {e}");
            return ExitCode::from(2);
        }
    };
    startup::init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tessera: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(execute(cli.command.unwrap_or(Command::Serve), config));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "tessera stopped");
            eprintln!("tessera: {e}");
            match e {
                StartupError::Config(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn execute(command: Command, config: Config) -> Result<(), StartupError> {
    match command {
        Command::Serve => {
            let identity_center = startup::identity_center_settings(&config);
            startup::serve(&config, "serve", identity_center, None, |_, _| {}).await
        }
        Command::Demo => {
            let database = describe_database(&config.database.url);
            let sandbox = startup::start_sandbox(&config).await?;
            // The demo reads the sandbox's Identity Center with its fixed test keys.
            let identity_center = connectors::identity_center::Settings {
                endpoint_url: Some(sandbox.running.aws_endpoint()),
                static_keys: Some((
                    sandbox.access_key_id.clone(),
                    sandbox.secret_access_key.clone(),
                )),
                identitystore_per_second: config.identity_center.identitystore_per_second,
                ssoadmin_per_second: config.identity_center.ssoadmin_per_second,
                ..connectors::identity_center::Settings::new(config.identity_center.region.clone())
            };
            // Without TESSERA_SECRET_KEY the demo seals the SCIM token with a key made for
            // this run (the demo enters the token again at each start).
            let secret_key = match config.secret_key.clone() {
                Some(key) => Some(key),
                None => store::secrets::SecretKey::generate()
                    .and_then(|k| store::secrets::SecretKey::from_base64(&k))
                    .ok()
                    .map(std::sync::Arc::new),
            };
            let config = Config {
                auth: startup::demo_auth(&config, &sandbox.sign_in),
                idp: startup::demo_idp(&sandbox),
                secret_key,
                // The checklist follows the demo's quick provisioning cycles.
                connection: crate::config::ConnectionSection {
                    verify_every_secs: config.connection.verify_every_secs.min(30),
                    ..config.connection.clone()
                },
                ..config
            };
            let seed = sandbox.connection.clone();
            let outcome = startup::serve(
                &config,
                "demo",
                Some(identity_center),
                Some(seed),
                |addr, _store| {
                    print_demo_banner(addr, &database, &sandbox);
                },
            )
            .await;
            sandbox.running.stop().await;
            outcome
        }
        Command::Sandbox => {
            let sandbox = startup::start_sandbox(&config).await?;
            println!();
            println!("  Tessera {} — sandbox only", startup::VERSION);
            println!();
            print_sandbox_lines(&sandbox);
            println!();
            println!("  Press Ctrl-C to stop.");
            println!();
            startup::shutdown_signal().await;
            sandbox.running.stop().await;
            Ok(())
        }
        Command::Migrate => {
            let store = startup::open_store(&config).await?;
            let schema = store.schema_status().await?;
            println!(
                "{} database at {} is at schema version {}",
                store.backend().as_str(),
                store::redact_url(&config.database.url),
                schema.version
            );
            store.close().await;
            Ok(())
        }
        Command::CheckConfig => {
            let mut shown = config.clone();
            shown.database.url = store::redact_url(&shown.database.url);
            for secret in [&mut shown.auth.client_secret, &mut shown.idp.client_secret] {
                *secret = crate::config::shown_secret(secret).into();
            }
            match config_json(&shown) {
                Ok(text) => print!("{text}"),
                Err(e) => println!("(configuration is valid but cannot be printed: {e})"),
            }
            Ok(())
        }
        // Answered by `run` before the configuration is loaded.
        Command::SecretKey | Command::Seal { .. } => Ok(()),
    }
}

fn config_json(config: &Config) -> Result<String, String> {
    serde_json::to_string_pretty(config)
        .map(|text| text + "\n")
        .map_err(|e| e.to_string())
}

fn describe_database(url: &str) -> String {
    match url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Some(path) => format!("SQLite file {path}"),
        None => format!("PostgreSQL at {}", store::redact_url(url)),
    }
}

fn print_demo_banner(addr: std::net::SocketAddr, database: &str, sandbox: &startup::DemoSandbox) {
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    println!();
    println!("  Tessera {} — demo", startup::VERSION);
    println!();
    println!("  Open      http://{host}:{}/", addr.port());
    println!("  Database  {database}");
    println!("  Health    http://{host}:{}/readyz", addr.port());
    println!();
    print_sandbox_lines(sandbox);
    println!();
    println!(
        "  Sign in   through the sandbox IdP ({}); its login page offers these personas:",
        sandbox.sign_in.issuer
    );
    println!(
        "              Security admin · Team lead · Auditor · Developer (sees only their own seat)"
    );
    println!("            Press Ctrl-C to stop.");
    println!();
}

/// Where the sandbox listens and how to talk to it (demo banner and `tessera sandbox`).
fn print_sandbox_lines(sandbox: &startup::DemoSandbox) {
    println!(
        "  Sandbox   emulated IAM Identity Center, organisation {:?}: {} users, {} groups, {} memberships",
        sandbox.org, sandbox.users, sandbox.groups, sandbox.memberships
    );
    println!(
        "            AWS endpoint {} (identitystore + sso-admin), identity store {}",
        sandbox.running.aws_endpoint(),
        sandbox.identity_store_id
    );
    println!(
        "            sign requests with AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}",
        sandbox.access_key_id, sandbox.secret_access_key
    );
    println!(
        "            SCIM endpoint {} with bearer token {}",
        sandbox.running.scim_endpoint(),
        sandbox.scim_token
    );
    match &sandbox.idp {
        startup::DemoIdp::Entra {
            tenant,
            client_id,
            client_secret,
        } => {
            println!(
                "            Entra ID tenant {tenant}: token endpoint {}/{tenant}/oauth2/v2.0/token, Graph {}/v1.0/",
                sandbox.running.login_base(),
                sandbox.running.graph_base()
            );
            println!("            Graph app client_id={client_id} client_secret={client_secret}");
            println!(
                "            Entra provisions its scope into Identity Center over SCIM every {} s",
                sandbox.provisioning_every_secs
            );
        }
        startup::DemoIdp::PingOne {
            environment,
            client_id,
            client_secret,
        } => {
            println!(
                "            PingOne environment {environment}: token endpoint {}/{environment}/as/token, API {}/environments/{environment}/",
                sandbox.running.pingone_auth_base(),
                sandbox.running.pingone_api_base()
            );
            println!("            worker app client_id={client_id} client_secret={client_secret}");
            println!(
                "            PingOne propagates changes into Identity Center over SCIM within {} s",
                sandbox::pingone::PROPAGATION_EVERY_SECS
            );
        }
    }
    if let (Some(endpoint), Some(reports)) =
        (sandbox.running.s3_endpoint(), sandbox.running.activity())
    {
        println!(
            "            Q Developer activity reports: s3://{}/{}/ on S3 endpoint {} (path-style, same keys), {} seat holders, {} days",
            reports.bucket,
            reports.prefix,
            endpoint,
            reports.holders.len(),
            sandbox::activity::DAYS
        );
    }
}

/// `tessera secret-key`: a new random key.
fn secret_key() -> ExitCode {
    match store::secrets::SecretKey::generate() {
        Ok(key) => {
            println!("{key}");
            eprintln!(
                "Keep it in {} wherever Tessera runs (a secret manager, not the configuration file). Seal secrets with `tessera seal <setting>`.",
                store::secrets::KEY_VARIABLE
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tessera: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `tessera seal <setting>`: the secret from standard input, sealed for that setting.
fn seal(setting: &str) -> ExitCode {
    use std::io::Read;
    use store::secrets::{KEY_VARIABLE, SecretKey};
    if !Config::SECRETS.contains(&setting) {
        eprintln!(
            "tessera: {setting:?} holds no secret; one of {}",
            Config::SECRETS.join(", ")
        );
        return ExitCode::from(2);
    }
    let key = match std::env::var(KEY_VARIABLE)
        .map_err(|_| store::secrets::SecretError::BadKey)
        .and_then(|k| SecretKey::from_base64(&k))
    {
        Ok(key) => key,
        Err(_) => {
            eprintln!(
                "tessera: set {KEY_VARIABLE} to the deployment's key (32 random bytes in base64; make one with `tessera secret-key`)"
            );
            return ExitCode::from(2);
        }
    };
    let mut secret = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut secret) {
        eprintln!("tessera: cannot read the secret from standard input: {e}");
        return ExitCode::FAILURE;
    }
    let secret = secret.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        eprintln!("tessera: give the secret on standard input (nothing was read)");
        return ExitCode::from(2);
    }
    match key.seal(secret, setting) {
        Ok(sealed) => {
            println!("{sealed}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tessera: {e}");
            ExitCode::FAILURE
        }
    }
}
