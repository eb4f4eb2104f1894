//! The browser half: cargo-leptos builds this crate to wasm, and the page's hydration script
//! calls [`hydrate`] to attach the app to the server-rendered HTML.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The page's lazy route (see `app::App`) is loaded before the body is hydrated.
    leptos::mount::hydrate_lazy(app::App);
}
