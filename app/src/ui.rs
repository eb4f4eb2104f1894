//! Pieces every console page uses: moments shown relative and absolute, cards, the error,
//! empty and loading states, a pager, and query strings that carry a page's filters.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A moment, formatted on the server: relative to when it was read ("5 minutes ago") and
/// absolute with its time zone (UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stamp {
    pub iso: String,
    pub absolute: String,
    pub relative: String,
}

#[cfg(feature = "ssr")]
impl Stamp {
    pub fn of(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            absolute: at.format("%Y-%m-%d %H:%M UTC").to_string(),
            relative: relative((now - at).num_seconds()),
        }
    }
}

/// "just now", "5 minutes ago", "in 3 days".
pub fn relative(seconds_ago: i64) -> String {
    let s = seconds_ago.unsigned_abs();
    let (n, unit) = match s {
        0..45 => return "just now".to_string(),
        45..5_400 => (s.div_ceil(60).max(1), "minute"),
        5_400..172_800 => (s / 3_600, "hour"),
        172_800..5_184_000 => (s / 86_400, "day"),
        _ => (s / 2_592_000, "month"),
    };
    let unit = if n == 1 {
        unit.to_string()
    } else {
        format!("{unit}s")
    };
    if seconds_ago >= 0 {
        format!("{n} {unit} ago")
    } else {
        format!("in {n} {unit}")
    }
}

/// A moment as "5 minutes ago (2026-11-22 10:04 UTC)".
#[component]
pub fn When(stamp: Stamp) -> impl IntoView {
    view! {
        <time datetime=stamp.iso title=stamp.absolute.clone()>
            {stamp.relative}
            <span class="muted">{format!(" ({})", stamp.absolute)}</span>
        </time>
    }
}

/// A white card with a heading.
#[component]
pub fn Card(
    #[prop(into)] title: String,
    #[prop(optional, into)] subtitle: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 class="text-base font-semibold">{title}</h2>
            {subtitle.map(|s| view! { <p class="mt-0.5 text-sm text-slate-500 dark:text-slate-400">{s}</p> })}
            <div class="mt-3">{children()}</div>
        </section>
    }
}

/// What went wrong and what to do, in a red box.
#[component]
pub fn ErrorNote(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <p class="rounded-md bg-red-50 p-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200" role="alert" data-testid="error">
            {message}
        </p>
    }
}

/// Nothing to show, and why.
#[component]
pub fn Empty(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <p class="rounded-md border border-dashed border-slate-300 p-4 text-sm text-slate-500 dark:border-slate-700 dark:text-slate-400" data-testid="empty">
            {message}
        </p>
    }
}

/// The loading state of a page's data.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="text-sm text-slate-500 dark:text-slate-400" aria-busy="true">"Loading…"</p> }
}

/// A server function's error as the person reads it (without the framework's prefix).
pub fn error_text(e: &ServerFnError) -> String {
    let text = e.to_string();
    text.split_once(": ")
        .filter(|(head, _)| head.starts_with("error running server function"))
        .map(|(_, rest)| rest.to_string())
        .unwrap_or(text)
}

/// `?a=1&b=x` from the non-empty parameters (empty string when none).
pub fn query_string(params: &[(&str, String)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
        out.append_pair(k, v);
    }
    let s = out.finish();
    if s.is_empty() { s } else { format!("?{s}") }
}

/// Rows per page in the lists.
pub const PAGE_SIZE: u32 = 50;

/// The page asked for in an address's `?page=` (from 1; missing or unreadable is the first).
pub fn page_param(query: &leptos_router::params::ParamsMap) -> u64 {
    query
        .get("page")
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}

/// "1–50 of 1,234" with previous/next links; `href(page)` builds a page's address (pages
/// count from 1).
#[component]
pub fn Pager(total: u64, page: u64, href: impl Fn(u64) -> String + 'static) -> impl IntoView {
    let size = u64::from(PAGE_SIZE);
    let pages = total.div_ceil(size).max(1);
    let first = if total == 0 { 0 } else { (page - 1) * size + 1 };
    let last = (page * size).min(total);
    let link = "rounded-md border border-slate-300 px-3 py-1 hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800";
    view! {
        <nav class="mt-4 flex items-center justify-between text-sm" aria-label="Pages">
            <span data-testid="pager-range">{format!("{} – {} of {}", thousands(first), thousands(last), thousands(total))}</span>
            <span class="flex gap-2">
                {(page > 1).then(|| view! { <a class=link rel="prev" href=href(page - 1)>"Previous"</a> })}
                {(page < pages).then(|| view! { <a class=link rel="next" data-testid="next-page" href=href(page + 1)>"Next"</a> })}
            </span>
        </nav>
    }
}

/// 1234567 as "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A small coloured label.
#[component]
pub fn Badge(#[prop(into)] text: String, tone: Tone) -> impl IntoView {
    view! { <span class=tone.class()>{text}</span> }
}

/// A user's status: enabled, or disabled (`disabled` says what that means where it is shown).
#[component]
pub fn StatusBadge(
    enabled: bool,
    #[prop(default = "disabled")] disabled: &'static str,
) -> impl IntoView {
    if enabled {
        view! { <Badge text="enabled" tone=Tone::Good/> }
    } else {
        view! { <Badge text=disabled tone=Tone::Bad/> }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    Plain,
}

impl Tone {
    /// A badge's classes: short ones defined in style/main.css (a list repeats them on every
    /// row).
    pub fn class(self) -> &'static str {
        match self {
            Tone::Good => "badge badge-good",
            Tone::Warn => "badge badge-warn",
            Tone::Bad => "badge badge-bad",
            Tone::Plain => "badge badge-plain",
        }
    }
}

/// Classes of the lists' tables. A cell and a link are repeated on every row, so they are
/// short classes that `style/main.css` defines (`@utility cell`, `@utility link`).
pub const TABLE: &str = "w-full text-left text-sm";
pub const TH: &str = "border-b border-slate-200 px-2 py-2 font-medium text-slate-500 dark:border-slate-800 dark:text-slate-400";
pub const TD: &str = "cell";
pub const LINK: &str = "link";
pub const INPUT: &str = "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_read_as_people_say_them() {
        assert_eq!(relative(10), "just now");
        assert_eq!(relative(60), "1 minute ago");
        assert_eq!(relative(125), "3 minutes ago");
        assert_eq!(relative(3 * 3600), "3 hours ago");
        assert_eq!(relative(3 * 86_400), "3 days ago");
        assert_eq!(relative(-14 * 86_400), "in 14 days");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(
            query_string(&[("q", "a b&c".into()), ("origin", String::new())]),
            "?q=a+b%26c"
        );
        assert_eq!(query_string(&[("q", String::new())]), "");
    }
}
