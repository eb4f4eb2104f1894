//! Light, dark or the system's choice: kept in a cookie the server reads, so every page is
//! rendered in the chosen colours from its first byte (no flash, no inline script under the
//! CSP). The switch is a plain form posting to `/preferences/theme`; it works before (and
//! without) the WebAssembly.

use leptos::prelude::*;

/// The cookie holding the choice (not a secret: HttpOnly all the same, the server reads it).
pub const COOKIE: &str = "tessera_theme";

/// Where the switch posts.
pub const PATH: &str = "/preferences/theme";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    /// Follow the operating system (`prefers-color-scheme`).
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    pub fn parse(s: &str) -> Option<Theme> {
        match s {
            "system" => Some(Theme::System),
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Theme::System => "System",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    /// The class on `<html>` that style/main.css's `dark` variant reads.
    pub fn html_class(self) -> &'static str {
        match self {
            Theme::System => "",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The choice in a `Cookie` header's value, System when absent or unreadable.
    #[cfg(feature = "ssr")]
    pub fn from_cookie_header(header: &str) -> Theme {
        cookie::Cookie::split_parse(header)
            .filter_map(Result::ok)
            .find(|c| c.name() == COOKIE)
            .and_then(|c| Theme::parse(c.value()))
            .unwrap_or(Theme::System)
    }

    /// The choice of the request being rendered (server) or of the page (browser: the class
    /// the server put on `<html>`), so both render the switch the same.
    pub fn current() -> Theme {
        #[cfg(feature = "ssr")]
        {
            use_context::<axum::http::request::Parts>()
                .and_then(|p| {
                    p.headers
                        .get(axum::http::header::COOKIE)
                        .and_then(|v| v.to_str().ok())
                        .map(Theme::from_cookie_header)
                })
                .unwrap_or(Theme::System)
        }
        #[cfg(not(feature = "ssr"))]
        {
            let class = document()
                .document_element()
                .map(|e| e.class_name())
                .unwrap_or_default();
            Theme::ALL
                .into_iter()
                .find(|t| {
                    !t.html_class().is_empty() && class.split(' ').any(|c| c == t.html_class())
                })
                .unwrap_or(Theme::System)
        }
    }
}

/// The three-way switch in the header; the current choice is pressed. Posting comes back to
/// the same address.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let current = Theme::current();
    let location = leptos_router::hooks::use_location();
    let back = move || format!("{}{}", location.pathname.get(), location.search.get());
    let button = "px-2 py-1 text-xs text-slate-600 hover:bg-slate-100 aria-pressed:bg-indigo-50 aria-pressed:font-medium aria-pressed:text-indigo-700 dark:text-slate-300 dark:hover:bg-slate-800 dark:aria-pressed:bg-indigo-950 dark:aria-pressed:text-indigo-300";
    view! {
        <form method="post" action=PATH class="flex overflow-hidden rounded-md border border-slate-200 dark:border-slate-700" data-testid="theme" aria-label="Colours">
            <input type="hidden" name="back" value=back/>
            {Theme::ALL.into_iter().map(|t| view! {
                <button type="submit" name="theme" value=t.as_str() class=button aria-pressed=(t == current).to_string() title=format!("{} colours", t.label())>
                    {t.label()}
                </button>
            }).collect_view()}
        </form>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_header_gives_the_choice() {
        assert_eq!(Theme::from_cookie_header(""), Theme::System);
        assert_eq!(
            Theme::from_cookie_header("tessera_session=abc; tessera_theme=dark"),
            Theme::Dark
        );
        assert_eq!(
            Theme::from_cookie_header("tessera_theme=light"),
            Theme::Light
        );
        assert_eq!(
            Theme::from_cookie_header("tessera_theme=purple"),
            Theme::System,
            "an unknown value is the system's choice"
        );
        assert_eq!(
            Theme::from_cookie_header("x_tessera_theme=dark"),
            Theme::System
        );
    }
}
