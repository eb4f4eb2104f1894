//! Keyboard shortcuts: `/` searches the page's list, `g` then a letter goes to a section, `?`
//! shows them all. Keys typed into a field are the field's own.

use leptos::prelude::*;

/// The sections `g` then a letter goes to: (letter, address, name).
pub const SECTIONS: [(&str, &str, &str); 7] = [
    ("o", "/", "Overview"),
    ("c", "/connection", "Connection"),
    ("u", "/users", "Users"),
    ("r", "/groups", "Groups"),
    ("d", "/drift", "Drift"),
    ("s", "/seats", "Seats"),
    ("h", "/history", "History"),
];

/// Listens for the shortcuts (in the browser) and shows their help when asked.
#[component]
pub fn Shortcuts() -> impl IntoView {
    let help = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        use web_sys::wasm_bindgen::JsCast;
        let navigate = leptos_router::hooks::use_navigate();
        let pending_g = StoredValue::new(false);
        let handle = window_event_listener(leptos::ev::keydown, move |e| {
            if e.ctrl_key() || e.meta_key() || e.alt_key() {
                return;
            }
            let typing = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                        || el.is_content_editable()
                });
            if typing {
                return;
            }
            let key = e.key();
            if pending_g.get_value() {
                pending_g.set_value(false);
                if let Some((_, href, _)) = SECTIONS.iter().find(|(k, _, _)| *k == key) {
                    e.prevent_default();
                    navigate(href, Default::default());
                }
                return;
            }
            match key.as_str() {
                "/" => {
                    let search = document()
                        .query_selector("[data-shortcut=search]")
                        .ok()
                        .flatten()
                        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
                    if let Some(search) = search {
                        e.prevent_default();
                        let _ = search.focus();
                    }
                }
                "g" => pending_g.set_value(true),
                "?" => help.update(|open| *open = !*open),
                "Escape" => help.set(false),
                _ => {}
            }
        });
        on_cleanup(move || handle.remove());
    }
    view! {
        <button type="button" data-testid="shortcuts-button" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" on:click=move |_| help.update(|open| *open = !*open)
            class="fixed bottom-4 right-4 z-10 grid h-8 w-8 place-items-center rounded-full border border-slate-300 bg-white text-sm text-slate-600 shadow-sm hover:bg-slate-100 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-300 dark:hover:bg-slate-800">
            "?"
        </button>
        <Show when=move || help.get()>
            <div role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcuts" class="fixed inset-x-0 top-20 z-20 mx-auto w-full max-w-sm rounded-xl border border-slate-200 bg-white p-5 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900">
                <div class="flex items-center justify-between">
                    <h2 class="text-base font-semibold">"Keyboard shortcuts"</h2>
                    <button type="button" class="rounded px-2 py-1 text-slate-500 hover:bg-slate-100 dark:hover:bg-slate-800" on:click=move |_| help.set(false)>"Close"</button>
                </div>
                <dl class="mt-3 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1">
                    <dt><kbd>"/"</kbd></dt><dd>"Search this page's list"</dd>
                    {SECTIONS.iter().map(|(k, _, name)| view! {
                        <dt><kbd>{format!("g {k}")}</kbd></dt><dd>{format!("Go to {name}")}</dd>
                    }).collect_view()}
                    <dt><kbd>"?"</kbd></dt><dd>"Show or hide this list"</dd>
                    <dt><kbd>"Esc"</kbd></dt><dd>"Close it"</dd>
                </dl>
            </div>
        </Show>
    }
}
