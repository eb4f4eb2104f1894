//! Server function calls carry the session's CSRF token: the page holds it in
//! `<meta name="csrf-token">` (rendered on the server for a signed-in person), and every server
//! function's client ([`CsrfClient`]) sends it back in the [`HEADER`] header. The server refuses
//! a signed-in POST to `/api/…` without it (beside the Origin check), so a page on another
//! site cannot call a server function with the person's cookie even where the Origin check
//! alone would not catch it.

use std::future::Future;

use leptos::server_fn::client::Client;
use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;

/// The request header that carries the token.
pub const HEADER: &str = "x-csrf-token";

/// The `<meta>` element's name.
pub const META_NAME: &str = "csrf-token";

/// The browser's `fetch` client with the page's CSRF token added to every call. Use it for
/// every server function: `#[server(…, client = crate::csrf::CsrfClient)]`.
pub struct CsrfClient;

impl<E, IS, OS> Client<E, IS, OS> for CsrfClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(req: BrowserRequest) -> impl Future<Output = Result<BrowserResponse, E>> + Send {
        #[cfg(feature = "hydrate")]
        if let Some(token) = page_token() {
            req.headers().set(HEADER, &token);
        }
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    #[allow(refining_impl_trait)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<bytes::Bytes, bytes::Bytes>> + Send + 'static,
                impl futures::Sink<bytes::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}

/// The token the server rendered into this page, if signed in.
#[cfg(feature = "hydrate")]
fn page_token() -> Option<String> {
    leptos::prelude::document()
        .query_selector(&format!("meta[name=\"{META_NAME}\"]"))
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .filter(|t| !t.is_empty())
}
