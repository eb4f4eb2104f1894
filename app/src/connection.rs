//! Connection: the checklist of the seeds' setup steps, each with its status, evidence, when it
//! was last verified and what to do when it fails; and what admins enter for it — Identity
//! Center's service-provider metadata, the IdP metadata Identity Center was given, the SCIM
//! endpoint and token (sealed, never shown again), attestations of what no API shows. The
//! overview shows the checklist as a status strip.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ui::{Badge, Card, Empty, ErrorNote, INPUT, Loading, Stamp, Tone, When};

/// One check as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckRow {
    pub id: String,
    pub title: String,
    /// pass, attested, unknown, warn, fail.
    pub status: String,
    pub summary: String,
    pub evidence: Vec<String>,
    pub fix: Option<String>,
    pub verified: Stamp,
    pub attested: bool,
}

/// Something an admin entered: who, when, and what it says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entered {
    pub by: String,
    pub at: Stamp,
    pub summary: String,
}

/// The Connection page's data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionView {
    pub overall: String,
    pub checks: Vec<CheckRow>,
    pub sp_metadata: Option<Entered>,
    pub idp_metadata: Option<Entered>,
    pub scim: Option<Entered>,
    /// Whether secrets can be sealed here (TESSERA_SECRET_KEY is set).
    pub can_seal: bool,
}

/// The checks that admins attest, for the attestation form (id, title).
pub const ATTESTED: &[(&str, &str)] = &[
    ("identity_source", "Identity source is the external IdP"),
    ("console_sessions", "Identity-aware console sessions"),
];

/// The checklist with each check's last outcome, and what admins entered.
#[server(prefix = "/api", endpoint = "connection_page", client = crate::csrf::CsrfClient)]
pub async fn connection_page() -> Result<ConnectionView, ServerFnError> {
    crate::access::check("connection_page")?;
    use crate::state::{app_state, store_failed};
    use store::setting;
    let state = app_state()?;
    let now = chrono::Utc::now();
    let failed = |e| store_failed("Reading the connection checklist", e);
    let store::Checklist {
        checks: verified,
        mut settings,
    } = state.store.checklist().await.map_err(failed)?;
    let outcomes: Vec<_> = verified.iter().map(|v| v.outcome.clone()).collect();
    let checks = verified
        .into_iter()
        .map(|v| CheckRow {
            id: v.outcome.check.as_str().to_string(),
            title: v.outcome.check.title().to_string(),
            status: v.outcome.status.as_str().to_string(),
            summary: v.outcome.summary,
            evidence: v.outcome.evidence,
            fix: v.outcome.fix,
            verified: Stamp::of(v.verified_at, now),
            attested: v.outcome.check.is_attested(),
        })
        .collect();
    let entered = |s: store::Setting, summary: String| Entered {
        by: s.updated_by,
        at: Stamp::of(s.updated_at, now),
        summary,
    };
    let sp_metadata = settings.remove(setting::SP_METADATA).map(|s| {
        let summary = match connectors::saml_metadata::parse_sp(s.value.as_bytes()) {
            Ok(m) => format!("entity id {} · ACS {}", m.entity_id, m.acs_urls.join(", ")),
            Err(e) => format!("does not read: {e}"),
        };
        entered(s, summary)
    });
    let idp_metadata = settings.remove(setting::IDP_METADATA).map(|s| {
        let summary = match connectors::saml_metadata::parse_idp(s.value.as_bytes()) {
            Ok(m) => format!(
                "entity id {} · {} signing certificate(s)",
                m.entity_id,
                m.certificates.len()
            ),
            Err(e) => format!("does not read: {e}"),
        };
        entered(s, summary)
    });
    let scim = settings.remove(setting::SCIM).map(|s| {
        let summary = match store::ScimSetting::decode(&s.value) {
            Ok(scim) => format!(
                "{} · token created {} (sealed; never shown)",
                scim.endpoint,
                scim.token_created.format("%Y-%m-%d")
            ),
            Err(_) => "does not read: enter it again".to_string(),
        };
        entered(s, summary)
    });
    Ok(ConnectionView {
        overall: domain::connection::overall(&outcomes).as_str().to_string(),
        checks,
        sp_metadata,
        idp_metadata,
        scim,
        can_seal: state.secrets.is_some(),
    })
}

/// The signed-in person's name, for "entered by".
#[cfg(feature = "ssr")]
fn who() -> Result<String, ServerFnError> {
    match crate::access::caller() {
        domain::access::Caller::Person { name, subject, .. } => {
            Ok(if name.is_empty() { subject } else { name })
        }
        domain::access::Caller::Anonymous => Err(crate::state::refuse(
            crate::state::Refused::SignIn,
            "sign in first",
        )),
    }
}

/// Verifies the checklist again (what a change of setting needs to show).
#[cfg(feature = "ssr")]
async fn verify_now(state: &crate::state::AppState) -> Result<(), ServerFnError> {
    match &state.connection {
        Some(control) => control.verify().await.map_err(ServerFnError::new),
        None => Ok(()),
    }
}

/// Verifies every check now. Security admins only.
#[server(prefix = "/api", endpoint = "verify_connection", client = crate::csrf::CsrfClient)]
pub async fn verify_connection() -> Result<(), ServerFnError> {
    crate::access::check("verify_connection")?;
    let state = crate::state::app_state()?;
    if state.connection.is_none() {
        return Err(crate::state::refuse(
            crate::state::Refused::Conflict,
            "This deployment does not verify the connection checklist.",
        ));
    }
    verify_now(&state).await
}

/// Stores uploaded SAML metadata — `side` "sp" (Identity Center's service-provider metadata)
/// or "idp" (the IdP metadata Identity Center was given) — after reading it safely; a document
/// that does not read is refused with the reason and nothing changes. Security admins only.
#[server(prefix = "/api", endpoint = "upload_metadata", client = crate::csrf::CsrfClient)]
pub async fn upload_metadata(side: String, xml: String) -> Result<String, ServerFnError> {
    crate::access::check("upload_metadata")?;
    use connectors::saml_metadata::{parse_idp, parse_sp};
    let state = crate::state::app_state()?;
    let (name, what, read) = match side.as_str() {
        "sp" => (
            store::setting::SP_METADATA,
            "Identity Center's service-provider metadata",
            parse_sp(xml.as_bytes()).map(|m| format!("entity id {}", m.entity_id)),
        ),
        "idp" => (
            store::setting::IDP_METADATA,
            "the IdP metadata Identity Center holds",
            parse_idp(xml.as_bytes()).map(|m| format!("entity id {}", m.entity_id)),
        ),
        other => {
            return Err(crate::state::refuse(
                crate::state::Refused::Input,
                format!(
                    "unknown metadata {other:?}: give sp (Identity Center's) or idp (the IdP's)"
                ),
            ));
        }
    };
    let summary = read.map_err(|e| {
        crate::state::refuse(
            crate::state::Refused::Input,
            format!("{what} was not stored: {e}. Nothing changed."),
        )
    })?;
    let by = who()?;
    state
        .store
        .set_connection_setting(name, &xml, &by, chrono::Utc::now())
        .await
        .map_err(|e| crate::state::store_failed("Storing the metadata", e))?;
    tracing::info!(setting = name, by = %by, "connection metadata uploaded");
    verify_now(&state).await?;
    Ok(format!(
        "Stored {what} ({summary}) and verified the checklist again."
    ))
}

/// Stores the SCIM endpoint and access token (sealed with TESSERA_SECRET_KEY; never shown
/// again) with the day the token was created in the Identity Center console. Security admins
/// only.
#[server(prefix = "/api", endpoint = "set_scim", client = crate::csrf::CsrfClient)]
pub async fn set_scim(
    endpoint: String,
    token: String,
    created_on: String,
) -> Result<String, ServerFnError> {
    crate::access::check("set_scim")?;
    let state = crate::state::app_state()?;
    let now = chrono::Utc::now();
    let endpoint = endpoint.trim().to_string();
    let token = token.trim().to_string();
    let refuse = |why: String| {
        crate::state::refuse(
            crate::state::Refused::Input,
            format!("{why} Nothing changed."),
        )
    };
    let url = url_of(&endpoint).map_err(refuse)?;
    if token.is_empty() || token.len() > 4096 || token.chars().any(char::is_whitespace) {
        return Err(refuse(
            "Paste the access token exactly as Identity Center showed it (one line, no spaces)."
                .into(),
        ));
    }
    let created = chrono::NaiveDate::parse_from_str(created_on.trim(), "%Y-%m-%d")
        .map_err(|_| refuse("Give the day the token was created as YYYY-MM-DD.".into()))?;
    if created > now.date_naive() {
        return Err(refuse(
            "The token's creation day is in the future: give the day Identity Center shows.".into(),
        ));
    }
    let Some(key) = &state.secrets else {
        return Err(refuse(format!(
            "Tessera cannot store a token without a key to seal it: set {} (make one with `tessera secret-key`) and restart.",
            store::secrets::KEY_VARIABLE
        )));
    };
    let sealed = key
        .seal(&token, store::SCIM_TOKEN_PURPOSE)
        .map_err(|e| refuse(format!("The token could not be sealed: {e}.")))?;
    let setting = store::ScimSetting {
        endpoint: url,
        token: sealed,
        token_created: created
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(now),
    };
    let value = setting.encode().map_err(|e| refuse(e.to_string()))?;
    let by = who()?;
    state
        .store
        .set_connection_setting(store::setting::SCIM, &value, &by, now)
        .await
        .map_err(|e| crate::state::store_failed("Storing the SCIM connection", e))?;
    tracing::info!(by = %by, "SCIM connection entered");
    verify_now(&state).await?;
    Ok("Stored the SCIM connection (the token is sealed and will not be shown again) and verified the checklist again.".into())
}

/// The SCIM endpoint as given, if it is an https URL (or http on this machine, for the
/// sandbox).
#[cfg(feature = "ssr")]
fn url_of(endpoint: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "{endpoint:?} is not a SCIM endpoint: give the URL Identity Center shows, https://scim.<region>.amazonaws.com/<tenant>/scim/v2/."
        )
    };
    let rest = if let Some(rest) = endpoint.strip_prefix("https://") {
        rest
    } else if let Some(rest) = endpoint.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(bad());
        }
        rest
    } else {
        return Err(bad());
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || endpoint.len() > 2048 || endpoint.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    Ok(endpoint.to_string())
}

/// Records an admin's attestation of a check no API shows, with the day they looked. Security
/// admins only.
#[server(prefix = "/api", endpoint = "attest", client = crate::csrf::CsrfClient)]
pub async fn attest(check: String, on: String, note: String) -> Result<String, ServerFnError> {
    crate::access::check("attest")?;
    use domain::connection::{Attestation, CheckId};
    let state = crate::state::app_state()?;
    let now = chrono::Utc::now();
    let id = CheckId::parse(&check)
        .filter(|c| c.is_attested())
        .ok_or_else(|| {
            crate::state::refuse(
                crate::state::Refused::Input,
                format!(
                    "{check:?} is not a check to attest: give identity_source or console_sessions"
                ),
            )
        })?;
    let on = chrono::NaiveDate::parse_from_str(on.trim(), "%Y-%m-%d").map_err(|_| {
        crate::state::refuse(
            crate::state::Refused::Input,
            "Give the day you looked as YYYY-MM-DD. Nothing changed.",
        )
    })?;
    if on > now.date_naive() {
        return Err(crate::state::refuse(
            crate::state::Refused::Input,
            "The day you looked is in the future. Nothing changed.",
        ));
    }
    let note = note.trim().chars().take(500).collect::<String>();
    let by = who()?;
    state
        .store
        .attest(
            id,
            &Attestation {
                by: by.clone(),
                on,
                note,
            },
            now,
        )
        .await
        .map_err(|e| crate::state::store_failed("Storing the attestation", e))?;
    tracing::info!(check = id.as_str(), by = %by, "check attested");
    verify_now(&state).await?;
    Ok(format!(
        "Attested: {} (marked attested, not verified).",
        id.title()
    ))
}

pub(crate) fn tone(status: &str) -> (Tone, &'static str) {
    match status {
        "pass" => (Tone::Good, "verified"),
        "attested" => (Tone::Plain, "attested"),
        "warn" => (Tone::Warn, "warning"),
        "fail" => (Tone::Bad, "failing"),
        _ => (Tone::Plain, "not verified"),
    }
}

/// The page's data, created with the page (outside Suspense, so hydration pairs it).
#[derive(Clone, Copy)]
pub struct ConnectionData {
    generation: RwSignal<u32>,
    view: Resource<Result<ConnectionView, ServerFnError>>,
}

impl ConnectionData {
    pub fn new() -> Self {
        let generation = RwSignal::new(0u32);
        Self {
            generation,
            view: Resource::new(move || generation.get(), |_| connection_page()),
        }
    }
}

impl Default for ConnectionData {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn ConnectionPage() -> impl IntoView {
    let data = ConnectionData::new();
    let me = expect_context::<Resource<Result<crate::me::Me, ServerFnError>>>();
    let verify = ServerAction::<VerifyConnection>::new();
    // The forms' actions live as long as the page, so their answers stay shown when the
    // checklist is read again after a change.
    let actions = Actions {
        sp: ServerAction::new(),
        idp: ServerAction::new(),
        scim: ServerAction::new(),
        attest: ServerAction::new(),
    };
    let generation = data.generation;
    // Any change an admin makes is followed by reading the page again.
    Effect::new(move |_| {
        let done = verify.value().get().is_some()
            || matches!(actions.sp.value().get(), Some(Ok(_)))
            || matches!(actions.idp.value().get(), Some(Ok(_)))
            || matches!(actions.scim.value().get(), Some(Ok(_)))
            || matches!(actions.attest.value().get(), Some(Ok(_)));
        if done {
            generation.update(|g| *g += 1);
        }
    });
    let view = data.view;
    view! {
        <leptos_meta::Title text="Connection"/>
        <h1 class="text-2xl font-semibold tracking-tight">"Connection"</h1>
        <p class="mt-1 max-w-3xl text-sm text-slate-600 dark:text-slate-400">
            "Each step of setting up the IdP → IAM Identity Center → Q Developer chain, verified where an API shows it and attested by an admin where none does, with what was seen and what to do."
        </p>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let admin = me.await.map(|m| m.admin).unwrap_or(false);
                let read = view.await;
                // A client that leaves while the page is read disposes of the page, its forms'
                // actions with it; rendering the forms then would panic on reading them (the
                // ActionForm reads its action's version). The page's own signal goes with them.
                if generation.is_disposed() {
                    return ().into_any();
                }
                match read {
                    Err(e) => view! { <div class="mt-6"><ErrorNote message=crate::ui::error_text(&e)/></div> }.into_any(),
                    Ok(v) => {
                        let (t, word) = tone(&v.overall);
                        view! {
                            <div class="mt-4 flex flex-wrap items-center gap-3" data-testid="connection-overall" data-status=v.overall.clone()>
                                <span class="text-sm">"Overall: "</span><Badge text=word tone=t/>
                                {admin.then(|| view! {
                                    <button type="button" data-testid="verify-now"
                                        class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50"
                                        disabled=move || verify.pending().get()
                                        on:click=move |_| { verify.dispatch(VerifyConnection {}); }>
                                        {move || if verify.pending().get() { "Verifying…" } else { "Verify now" }}
                                    </button>
                                })}
                            </div>
                            {move || verify.value().get().and_then(Result::err).map(|e| view! { <div class="mt-2"><ErrorNote message=crate::ui::error_text(&e)/></div> })}
                            <ol class="mt-4 space-y-3" data-testid="checklist">
                                {if v.checks.is_empty() {
                                    view! { <Empty message="Not verified yet: the checklist is verified at start and then on a schedule; an admin can verify it now."/> }.into_any()
                                } else {
                                    v.checks.clone().into_iter().map(|c| view! { <CheckItem c/> }).collect_view().into_any()
                                }}
                            </ol>
                            {admin.then(|| view! { <Settings v=v.clone() actions/> })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn CheckItem(c: CheckRow) -> impl IntoView {
    let (t, word) = tone(&c.status);
    view! {
        <li class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid=format!("check-{}", c.id) data-status=c.status.clone()>
            <div class="flex flex-wrap items-center gap-2">
                <Badge text=word tone=t/>
                <h2 class="text-base font-semibold">{c.title}</h2>
                <span class="ml-auto text-xs text-slate-500 dark:text-slate-400">
                    {if c.attested { "checked " } else { "verified " }}<When stamp=c.verified/>
                </span>
            </div>
            <p class="mt-1 text-sm" data-testid="check-summary">{c.summary}</p>
            {(!c.evidence.is_empty()).then(|| view! {
                <ul class="mt-2 list-disc pl-5 text-xs text-slate-600 dark:text-slate-400">
                    {c.evidence.into_iter().map(|e| view! { <li class="break-all">{e}</li> }).collect_view()}
                </ul>
            })}
            {c.fix.map(|f| view! {
                <details class="mt-2 text-sm" open=true>
                    <summary class="cursor-pointer font-medium">"What to do"</summary>
                    <p class="mt-1 text-slate-700 dark:text-slate-300" data-testid="check-fix">{f}</p>
                </details>
            })}
        </li>
    }
}

/// The admin forms' actions, created with the page.
#[derive(Clone, Copy)]
struct Actions {
    sp: ServerAction<UploadMetadata>,
    idp: ServerAction<UploadMetadata>,
    scim: ServerAction<SetScim>,
    attest: ServerAction<Attest>,
}

/// What admins enter for the checks.
#[component]
fn Settings(v: ConnectionView, actions: Actions) -> impl IntoView {
    view! {
        <div class="mt-8 grid gap-6 lg:grid-cols-2">
            <MetadataForm side="sp" title="Identity Center's service-provider metadata"
                hint="IAM Identity Center → Settings → Identity source → Actions → Change identity source → External identity provider → Download metadata file."
                current=v.sp_metadata.clone() upload=actions.sp/>
            <MetadataForm side="idp" title="IdP metadata Identity Center holds"
                hint="The IdP metadata file uploaded in Identity Center (optional: with it, Tessera checks Identity Center trusts the certificate the IdP signs with)."
                current=v.idp_metadata.clone() upload=actions.idp/>
            <ScimForm current=v.scim.clone() can_seal=v.can_seal save=actions.scim/>
            <AttestForm attest=actions.attest/>
        </div>
    }
}

#[component]
fn Current(current: Option<Entered>) -> impl IntoView {
    match current {
        Some(e) => view! {
            <p class="text-xs text-slate-600 dark:text-slate-400" data-testid="current">
                {e.summary}" · entered by "{e.by}" "<When stamp=e.at/>
            </p>
        }
        .into_any(),
        None => {
            view! { <p class="text-xs text-slate-500" data-testid="current">"Not entered."</p> }
                .into_any()
        }
    }
}

#[component]
fn MetadataForm(
    side: &'static str,
    title: &'static str,
    hint: &'static str,
    current: Option<Entered>,
    upload: ServerAction<UploadMetadata>,
) -> impl IntoView {
    let xml = RwSignal::new(String::new());
    let file_error = RwSignal::new(None::<String>);
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input = event_target::<web_sys::HtmlInputElement>(&ev);
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                file_error.set(None);
                leptos::task::spawn_local(async move {
                    match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                        Ok(text) => xml.set(text.as_string().unwrap_or_default()),
                        Err(_) => file_error
                            .set(Some("The file could not be read: choose it again.".into())),
                    }
                });
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <Card title=title>
            <div data-testid=format!("metadata-{side}")>
                <Current current/>
                <p class="mt-2 text-xs text-slate-500 dark:text-slate-400">{hint}</p>
                <form class="mt-3 space-y-2" on:submit=move |ev| {
                    ev.prevent_default();
                    upload.dispatch(UploadMetadata { side: side.to_string(), xml: xml.get_untracked() });
                }>
                    <input type="file" accept=".xml,application/xml,text/xml,application/samlmetadata+xml" class="block text-sm" data-testid="metadata-file" aria-label=format!("{title} file") on:change=on_file/>
                    <textarea class=format!("{INPUT} h-24 w-full font-mono text-xs") placeholder="…or paste the XML" aria-label=format!("{title} XML")
                        data-testid="metadata-xml" prop:value=move || xml.get() on:input=move |ev| xml.set(event_target_value(&ev))></textarea>
                    <button type="submit" data-testid="metadata-upload"
                        class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50"
                        disabled=move || upload.pending().get() || xml.get().trim().is_empty()>
                        "Upload"
                    </button>
                </form>
                {move || file_error.get().map(|m| view! { <div class="mt-2" data-testid="metadata-error"><ErrorNote message=m/></div> })}
                {move || upload.value().get().map(|r| match r {
                    Ok(m) => view! { <p class="mt-2 text-sm text-emerald-700 dark:text-emerald-300" role="status" data-testid="metadata-done">{m}</p> }.into_any(),
                    Err(e) => view! { <div class="mt-2" data-testid="metadata-error"><ErrorNote message=crate::ui::error_text(&e)/></div> }.into_any(),
                })}
            </div>
        </Card>
    }
}

#[component]
fn ScimForm(
    current: Option<Entered>,
    can_seal: bool,
    save: ServerAction<SetScim>,
) -> impl IntoView {
    view! {
        <Card title="SCIM endpoint and access token">
            <div data-testid="scim-form">
                <Current current/>
                <p class="mt-2 text-xs text-slate-500 dark:text-slate-400">
                    "IAM Identity Center → Settings → Identity source → Automatic provisioning: the SCIM endpoint, and the access token the IdP provisions with (sealed at rest, never shown again) with the day it was created."
                </p>
                {(!can_seal).then(|| view! {
                    <p class="mt-2 rounded-md bg-amber-50 p-2 text-xs text-amber-900 dark:bg-amber-950 dark:text-amber-200">
                        "TESSERA_SECRET_KEY is not set: a token cannot be stored until it is (make one with `tessera secret-key`)."
                    </p>
                })}
                <ActionForm action=save attr:class="mt-3 space-y-2">
                    <input class=format!("{INPUT} w-full") name="endpoint" placeholder="https://scim.us-east-1.amazonaws.com/…/scim/v2/" aria-label="SCIM endpoint" required/>
                    <input class=format!("{INPUT} w-full") name="token" type="password" autocomplete="off" placeholder="Access token" aria-label="Access token" required/>
                    <label class="block text-xs">"Created on "
                        <input class=INPUT name="created_on" type="date" aria-label="Token created on" required/>
                    </label>
                    <button type="submit" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50"
                        disabled=move || save.pending().get()>"Save"</button>
                </ActionForm>
                {move || save.value().get().map(|r| match r {
                    Ok(m) => view! { <p class="mt-2 text-sm text-emerald-700 dark:text-emerald-300" role="status">{m}</p> }.into_any(),
                    Err(e) => view! { <div class="mt-2"><ErrorNote message=crate::ui::error_text(&e)/></div> }.into_any(),
                })}
            </div>
        </Card>
    }
}

#[component]
fn AttestForm(attest: ServerAction<Attest>) -> impl IntoView {
    view! {
        <Card title="Attest what no API shows">
            <div data-testid="attest-form">
                <p class="text-xs text-slate-500 dark:text-slate-400">
                    "Look in the IAM Identity Center console, then record what you saw and when. Attested checks are marked attested, not verified, and asked again after a year."
                </p>
                <ActionForm action=attest attr:class="mt-3 space-y-2">
                    <select class=format!("{INPUT} w-full") name="check" aria-label="Check">
                        {ATTESTED.iter().map(|(id, title)| view! { <option value=*id>{*title}</option> }).collect_view()}
                    </select>
                    <label class="block text-xs">"Looked on "
                        <input class=INPUT name="on" type="date" aria-label="Looked on" required/>
                    </label>
                    <input class=format!("{INPUT} w-full") name="note" placeholder="Note (optional)" aria-label="Note"/>
                    <button type="submit" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-50"
                        disabled=move || attest.pending().get()>"Attest"</button>
                </ActionForm>
                {move || attest.value().get().map(|r| match r {
                    Ok(m) => view! { <p class="mt-2 text-sm text-emerald-700 dark:text-emerald-300" role="status" data-testid="attest-done">{m}</p> }.into_any(),
                    Err(e) => view! { <div class="mt-2"><ErrorNote message=crate::ui::error_text(&e)/></div> }.into_any(),
                })}
            </div>
        </Card>
    }
}
