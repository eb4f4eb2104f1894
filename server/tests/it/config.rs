//! Configuration as an operator meets it: file, environment overrides, and the messages for
//! mistakes.

use std::io::Write;
use std::path::Path;

use server::config::{Config, ConfigError, LogFormat};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn file_with(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn load_err(file: Option<&Path>, vars: &[(&str, &str)]) -> String {
    match Config::load(file, env(vars)) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_serve_on_loopback_with_sqlite_under_data() {
    let config = Config::load(None, env(&[])).unwrap();
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:3000");
    assert_eq!(config.database.url, "sqlite://data/tessera.db");
    assert_eq!(config.log.format, LogFormat::Pretty);
}

#[test]
fn the_example_file_is_valid_and_matches_the_defaults() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tessera.example.toml");
    let loaded = Config::load(Some(&example), env(&[])).unwrap();
    let defaults = Config::default();
    assert_eq!(loaded.server.listen, defaults.server.listen);
    assert_eq!(loaded.server.site_root, defaults.server.site_root);
    assert_eq!(loaded.database.url, defaults.database.url);
    assert_eq!(
        loaded.database.max_connections,
        defaults.database.max_connections
    );
    assert_eq!(loaded.log.level, defaults.log.level);
    assert_eq!(loaded.sandbox.org, defaults.sandbox.org);
    assert_eq!(loaded.sandbox.aws_listen, defaults.sandbox.aws_listen);
}

#[test]
fn an_unknown_sandbox_organisation_is_refused() {
    let msg = load_err(None, &[("TESSERA_SANDBOX__ORG", "huge")]);
    assert!(msg.contains("sandbox.org"), "{msg}");
    assert!(msg.contains("demo or large"), "{msg}");
}

#[test]
fn environment_overrides_the_file() {
    let file = file_with("[database]\nurl = \"sqlite://from-file.db\"\nmax_connections = 3\n");
    let config = Config::load(
        Some(file.path()),
        env(&[
            ("TESSERA_DATABASE__URL", "postgres://tessera@db/tessera"),
            ("TESSERA_SERVER__LISTEN", "127.0.0.1:4000"),
            ("TESSERA_LOG__FORMAT", "json"),
        ]),
    )
    .unwrap();
    assert_eq!(config.database.url, "postgres://tessera@db/tessera");
    assert_eq!(config.database.max_connections, 3, "file value kept");
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:4000");
    assert_eq!(config.log.format, LogFormat::Json);
}

#[test]
fn unrelated_tessera_variables_are_not_configuration() {
    Config::load(
        None,
        env(&[
            ("TESSERA_TEST_DATABASE_URL", "postgres://x@y/z"),
            ("TESSERA_CONFIG", "/nowhere"),
        ]),
    )
    .unwrap();
}

#[test]
fn a_misspelt_key_in_the_file_is_named() {
    let file = file_with("[databse]\nurl = \"sqlite://x.db\"\n");
    let msg = load_err(Some(file.path()), &[]);
    assert!(msg.contains("databse"), "{msg}");
}

#[test]
fn a_misspelt_environment_variable_is_named() {
    let msg = load_err(None, &[("TESSERA_SERVER__LISTN", "127.0.0.1:1")]);
    assert!(msg.contains("listn"), "{msg}");
    assert!(msg.contains("environment"), "{msg}");
}

#[test]
fn a_bad_listen_address_is_named() {
    let msg = load_err(None, &[("TESSERA_SERVER__LISTEN", "localhost")]);
    assert!(msg.contains("server.listen"), "{msg}");
}

#[test]
fn a_database_url_of_another_kind_is_refused_without_its_password() {
    let msg = load_err(
        None,
        &[("TESSERA_DATABASE__URL", "mysql://root:pw123@db/tessera")],
    );
    assert!(msg.contains("database.url"), "{msg}");
    assert!(msg.contains("sqlite:"), "{msg}");
    assert!(!msg.contains("pw123"), "password leaked: {msg}");
}

#[test]
fn out_of_range_numbers_are_refused() {
    let msg = load_err(None, &[("TESSERA_DATABASE__MAX_CONNECTIONS", "0")]);
    assert!(msg.contains("database.max_connections"), "{msg}");
    let msg = load_err(None, &[("TESSERA_SANDBOX__PROVISIONING_EVERY_SECS", "0")]);
    assert!(msg.contains("sandbox.provisioning_every_secs"), "{msg}");
}

#[test]
fn an_unknown_sandbox_idp_is_refused_with_the_choices() {
    let msg = load_err(None, &[("TESSERA_SANDBOX__IDP", "okta")]);
    assert!(msg.contains("sandbox.idp"), "{msg}");
    assert!(msg.contains("entra or pingone"), "{msg}");
}

#[test]
fn a_bad_log_filter_is_refused_with_examples() {
    let msg = load_err(None, &[("TESSERA_LOG__LEVEL", "info,=[")]);
    assert!(msg.contains("log.level"), "{msg}");
}

#[test]
fn identity_center_settings_are_checked_and_name_the_key() {
    for (var, value, key) in [
        (
            "TESSERA_IDENTITY_CENTER__FUSE_MAX_REMOVED_SHARE",
            "1.5",
            "identity_center.fuse_max_removed_share",
        ),
        (
            "TESSERA_IDENTITY_CENTER__REFRESH_EVERY_SECS",
            "5",
            "identity_center.refresh_every_secs",
        ),
        (
            "TESSERA_IDENTITY_CENTER__IDENTITYSTORE_PER_SECOND",
            "0",
            "identity_center.identitystore_per_second",
        ),
        (
            "TESSERA_SEATS__PRICE_PER_MONTH",
            "-1",
            "seats.price_per_month",
        ),
        (
            "TESSERA_SEATS__PRICE_PER_MONTH",
            "NaN",
            "seats.price_per_month",
        ),
        ("TESSERA_SEATS__CURRENCY", "dollars", "seats.currency"),
    ] {
        let msg = load_err(None, &[(var, value)]);
        assert!(msg.contains(key), "{var}={value}: {msg}");
    }
    let config = Config::load(
        None,
        env(&[
            ("TESSERA_IDENTITY_CENTER__ENABLED", "true"),
            ("TESSERA_IDENTITY_CENTER__REGION", "eu-central-1"),
        ]),
    )
    .unwrap();
    let settings = server::startup::identity_center_settings(&config).unwrap();
    assert_eq!(settings.region, "eu-central-1");
    assert_eq!(settings.endpoint_url, None, "AWS's own endpoint");
    assert_eq!(settings.static_keys, None, "the standard credential chain");
    assert!(server::startup::identity_center_settings(&Config::default()).is_none());
}

#[test]
fn an_explicit_config_file_must_exist() {
    let err = Config::load(Some(Path::new("/nonexistent/tessera.toml")), env(&[])).unwrap_err();
    assert!(matches!(err, ConfigError::MissingFile(_)), "{err}");
    assert!(err.to_string().contains("/nonexistent/tessera.toml"));
}

#[test]
fn malformed_toml_is_reported_with_its_place() {
    let file = file_with("[server]\nlisten = \n");
    let msg = load_err(Some(file.path()), &[]);
    assert!(msg.contains(&file.path().display().to_string()), "{msg}");
}

#[test]
fn sign_in_settings_are_checked_and_name_the_key() {
    for (var, value, key) in [
        ("TESSERA_SERVER__PUBLIC_URL", "ftp://x", "server.public_url"),
        (
            "TESSERA_SERVER__PUBLIC_URL",
            "not a url",
            "server.public_url",
        ),
        (
            "TESSERA_AUTH__IDLE_TIMEOUT_MINS",
            "0",
            "auth.idle_timeout_mins",
        ),
        (
            "TESSERA_AUTH__ABSOLUTE_TIMEOUT_HOURS",
            "1000",
            "auth.absolute_timeout_hours",
        ),
    ] {
        let msg = load_err(None, &[(var, value)]);
        assert!(msg.contains(key), "{var}={value}: {msg}");
    }
    // Roles map from the environment too; a secret stays out of the file.
    let config = Config::load(
        None,
        env(&[
            ("TESSERA_SERVER__PUBLIC_URL", "https://tessera.example.com/"),
            ("TESSERA_AUTH__CLIENT_SECRET", "s3cret"),
        ]),
    )
    .unwrap();
    assert_eq!(config.server.public_origin(), "https://tessera.example.com");
    assert_eq!(config.auth.client_secret, "s3cret");
}

#[tokio::test]
async fn serving_without_sign_in_configured_says_which_keys_to_set() {
    let config = Config::load(None, env(&[])).unwrap();
    let store = store::Store::connect("sqlite::memory:", &store::ConnectOptions::default())
        .await
        .unwrap();
    let e = server::auth::SignIn::discover(&config.auth, &config.server.public_origin(), store)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("auth.issuer") && e.contains("TESSERA_AUTH__CLIENT_SECRET"),
        "{e}"
    );
}

#[test]
fn sealed_secrets_open_with_the_key_from_the_environment_and_say_what_is_wrong_otherwise() {
    use store::secrets::{KEY_VARIABLE, SecretKey};
    let key = SecretKey::generate().unwrap();
    let sealer = SecretKey::from_base64(&key).unwrap();
    let auth = sealer.seal("sign-in-s3cret", "auth.client_secret").unwrap();
    let idp = sealer.seal("graph-s3cret", "idp.client_secret").unwrap();
    let file = file_with(&format!(
        "[auth]\nclient_secret = \"{auth}\"\n[idp]\nclient_secret = \"{idp}\"\n"
    ));
    let config = Config::load(Some(file.path()), env(&[(KEY_VARIABLE, &key)])).unwrap();
    assert_eq!(config.auth.client_secret, "sign-in-s3cret");
    assert_eq!(config.idp.client_secret, "graph-s3cret");

    // No key, another key, a value sealed for the other setting: each names the setting and
    // what to do, and never shows the secret.
    let other = SecretKey::generate().unwrap();
    let swapped = file_with(&format!("[auth]\nclient_secret = \"{idp}\"\n"));
    for (file, vars, says) in [
        (&file, env(&[]), "is not set"),
        (&file, env(&[(KEY_VARIABLE, &other)]), "another key"),
        (&swapped, env(&[(KEY_VARIABLE, &key)]), "another setting"),
        (
            &file,
            env(&[(KEY_VARIABLE, "c2hvcnQ=")]),
            "tessera secret-key",
        ),
    ] {
        let e = Config::load(Some(file.path()), vars)
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        assert!(
            e.contains("auth.client_secret") || e.contains(KEY_VARIABLE),
            "{e}"
        );
    }
}
