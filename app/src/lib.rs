//! Tessera's user interface: the HTML shell, the routes, the pages and the server functions they
//! call. Rendered on the server (feature `ssr`) and hydrated in the browser (feature `hydrate`).
//! Server functions stay thin: they read the [`state::AppState`] from context and call the store.

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, SsrMode,
    components::{Route, Router, Routes},
    lazy_route, path,
};

#[cfg(feature = "ssr")]
pub mod access;
pub mod connection;
pub mod csrf;
pub mod drift;
pub mod groups;
pub mod history;
pub mod markup;
pub mod me;
pub mod overview;
pub mod seats;
pub mod sessions;
pub mod shortcuts;
#[cfg(feature = "ssr")]
pub mod state;
pub mod status;
pub mod theme;
pub mod timeline;
pub mod ui;
pub mod users;

use me::{UserMenu, whoami};
use sessions::SessionsCard;
use status::StatusCard;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en" class=theme::Theme::current().html_class()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <meta name=csrf::META_NAME content=page_csrf_token()/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App/>
            </body>
        </html>
    }
}

/// The signed-in person's CSRF token for this page's server function calls (empty otherwise).
fn page_csrf_token() -> String {
    #[cfg(feature = "ssr")]
    {
        access::csrf_token().unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

/// The page's Content-Security-Policy: scripts only from this site or with this response's
/// nonce (the hydration script), WebAssembly allowed, nothing framed, forms only to this site or
/// the IdP (sign-out goes through its end-session endpoint).
#[cfg(feature = "ssr")]
fn content_security_policy() {
    use axum::http::{HeaderValue, header};
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let form_action = use_context::<state::AppState>()
        .map(|s| s.form_action)
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' {form_action}"
    );
    if let Ok(value) = HeaderValue::from_str(csp.trim_end()) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this flips once the page is hydrated and interactive.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let me = Resource::new(|| (), |_| whoami());
    provide_context(me);

    view! {
        <Stylesheet id="leptos" href="/pkg/tessera.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="description" content="Tessera: the IdP → IAM Identity Center → Q Developer chain in one console"/>
        <Title formatter=|text| format!("{text} · Tessera")/>
        <Router>
            <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-30 focus:rounded focus:bg-white focus:px-3 focus:py-2 dark:focus:bg-slate-900">"Skip to content"</a>
            <shortcuts::Shortcuts/>
            <div class="flex min-h-screen flex-col">
                <header class="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
                    <Header me/>
                </header>
                <main id="main" class="mx-auto w-full max-w-6xl flex-1 px-6 py-8" data-hydrated=move || hydrated.get().to_string()>
                    // Every page renders whole before it is sent (`SsrMode::Async`): its data
                    // takes a few milliseconds, and streaming the shell first, then each resource
                    // as its own chunk, cost more server CPU than it saved (BENCHMARKS.md,
                    // twenty-fourth session). An object page must also know its status (404).
                    <Routes fallback=NotFound>
                        <Route path=path!("") view={Lazy::<OverviewRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/connection") view={Lazy::<ConnectionRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/users/:id") view={Lazy::<UserRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/groups") view={Lazy::<GroupsRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/groups/:id") view={Lazy::<GroupRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/drift") view={Lazy::<DriftRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/seats") view={Lazy::<SeatsRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/history") view={Lazy::<HistoryRoute>::new()} ssr=SsrMode::Async/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// Each page is a lazy route. Built with `cargo leptos build --split` (as xtask builds the site),
/// a page's views and the (de)serialisers of its server functions are cut out of the main wasm
/// module into chunks the browser loads with the page: the first load of any page carries the
/// shell and that page only. The server renders the same views and adds a preload of the page's
/// chunks to its `<head>`, and `hydrate_lazy` loads them before hydrating. Without `--split`
/// (clippy, `cargo test`) the routes are ordinary ones.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        #[doc = concat!("The route of [`", stringify!($page), "`], loaded with its page.")]
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

use connection::ConnectionPage;
use drift::DriftPageView;
use groups::{GroupPage, GroupsPage};
use history::HistoryPage;
use seats::SeatsPageView;
use users::{UserPage, UsersPage};

lazy_pages! {
    OverviewRoute => Overview,
    ConnectionRoute => ConnectionPage,
    UsersRoute => UsersPage,
    UserRoute => UserPage,
    GroupsRoute => GroupsPage,
    GroupRoute => GroupPage,
    DriftRoute => DriftPageView,
    SeatsRoute => SeatsPageView,
    HistoryRoute => HistoryPage,
}

#[component]
fn Overview() -> impl IntoView {
    // Every resource of the page is created here, before any Suspense (see OverviewData).
    let data = overview::OverviewData::new();
    let status = status::StatusData::new();
    let connection = overview::StripData::new();
    let me = expect_context::<Resource<Result<me::Me, ServerFnError>>>();
    view! {
        <Title text="Overview"/>
        <h1 class="text-2xl font-semibold tracking-tight">"Overview"</h1>
        <p class="mt-1 max-w-2xl text-sm text-slate-600 dark:text-slate-400">
            "Tessera watches the chain from your identity provider through IAM Identity Center to "
            "Amazon Q Developer seats: what is synced, what drifted, who holds a seat and what it "
            "costs, and how fresh it all is."
        </p>
        // One wait for the signed-in person decides each role's parts of the page (a convenience:
        // the server checks every call again). One suspense instead of one per part: each costs
        // every render an owner, a resolving pass and its own markers.
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let (operator, admin) = me.await.map(|m| (m.operator, m.admin)).unwrap_or_default();
                view! {
                    {operator.then(|| view! {
                        <div class="mt-6">
                            <div class="mb-4"><overview::ConnectionStrip data=connection/></div>
                            <overview::OverviewFigures data admin/>
                        </div>
                    })}
                    <div class="mt-6 grid gap-6 md:grid-cols-2">
                        {operator.then(|| view! { <StatusCard data=status/> })}
                        {admin.then(|| view! { <SessionsCard/> })}
                    </div>
                }
            })}
        </Transition>
    }
}

/// The header's contents: the name, the colours, who is signed in and, for security admins and
/// auditors, the sections. One wait for the signed-in person serves all of it (each suspense
/// costs every page's render an owner, a resolving pass and its own markers).
#[component]
fn Header(me: Resource<Result<me::Me, ServerFnError>>) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let me = me.await;
                // A convenience: the server checks each page and call again.
                let operator = me.as_ref().is_ok_and(|m| m.operator);
                view! {
                    <div class="mx-auto flex max-w-6xl items-center gap-3 px-6 py-4">
                        <span class="grid h-8 w-8 place-items-center rounded-md bg-indigo-600 font-bold text-white" aria-hidden="true">"T"</span>
                        <span class="text-lg font-semibold tracking-tight">"Tessera"</span>
                        <span class="hidden text-sm text-slate-500 sm:inline dark:text-slate-400">"Identity Center seats, end to end"</span>
                        <div class="ml-auto flex items-center gap-3">
                            <theme::ThemeSwitch/>
                            <UserMenu me/>
                        </div>
                    </div>
                    {operator.then(|| view! { <Nav/> })}
                }
            })}
        </Transition>
    }
}

/// The console's sections (security admins and auditors; the server checks each page again).
/// Plain links: the router takes over their clicks all the same, and one read of the location
/// marks the current section (a `<A>` per link costs each page's render a resolved path and an
/// attribute boxed per link).
#[component]
fn Nav() -> impl IntoView {
    let link = "rounded-md px-3 py-1.5 text-sm text-slate-600 hover:bg-slate-100 aria-[current=page]:bg-indigo-50 aria-[current=page]:font-medium aria-[current=page]:text-indigo-700 dark:text-slate-300 dark:hover:bg-slate-800 dark:aria-[current=page]:bg-indigo-950 dark:aria-[current=page]:text-indigo-300";
    let path = leptos_router::hooks::use_location().pathname;
    let current = move |section: &'static str| {
        move || path.with(|p| in_section(p, section)).then_some("page")
    };
    view! {
        <nav class="mx-auto flex max-w-6xl gap-1 overflow-x-auto px-6 pb-2" aria-label="Sections" data-testid="nav">
            <a href="/" class=link aria-current=current("/")>"Overview"</a>
            <a href="/connection" class=link aria-current=current("/connection")>"Connection"</a>
            <a href="/users" class=link aria-current=current("/users")>"Users"</a>
            <a href="/groups" class=link aria-current=current("/groups")>"Groups"</a>
            <a href="/drift" class=link aria-current=current("/drift")>"Drift"</a>
            <a href="/seats" class=link aria-current=current("/seats")>"Seats"</a>
            <a href="/history" class=link aria-current=current("/history")>"History"</a>
        </nav>
    }
}

/// Whether `path` is in the section at `section`: the overview only at `/`, another section at
/// its own path and its objects' pages (`/users/<id>` is in Users).
fn in_section(path: &str, section: &str) -> bool {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    if section == "/" {
        return path == "/";
    }
    path.strip_prefix(section)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Marks the response 404 (a page whose object does not exist), on the server.
pub(crate) fn not_found_status() {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Not found"/>
        <h1 class="text-2xl font-semibold">"Page not found"</h1>
        <p class="mt-2 text-slate-600 dark:text-slate-400">
            "There is nothing at this address. "
            <a class="text-indigo-600 underline dark:text-indigo-400" href="/">"Back to the overview"</a>
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::in_section;

    #[test]
    fn a_page_is_in_its_section_and_the_overview_only_at_the_root() {
        assert!(in_section("/", "/"));
        assert!(!in_section("/users", "/"));
        assert!(in_section("/users", "/users"));
        assert!(in_section("/users/", "/users"));
        assert!(in_section("/users/abc", "/users"));
        assert!(!in_section("/users-export", "/users"));
        assert!(!in_section("/groups/abc", "/users"));
        assert!(!in_section("/", "/users"));
    }
}
