//! A list's rows, written straight into one string of markup.
//!
//! A list's rows hold nothing to hydrate (no handler, no signal: links are plain `<a>` that the
//! router catches), yet as views every cell of every row was a boxed, erased view that the
//! server built, rendered and marked for hydration, and that the browser walked again. A list's
//! container instead takes its rows as `inner_html` from a [`Markup`]:
//! - on the server they are written once, with no hydration markers;
//! - hydration keeps the server's rows as they are (an `inner_html` from the server is not
//!   touched);
//! - a navigation in the browser writes them anew from the same data.
//!
//! Every piece of text and every attribute value goes through `html_escape` here. Tag and
//! attribute names are `&'static str`, so only this crate's code names them.

use crate::ui::{LINK, Stamp, TD, Tone};

/// Markup being written.
#[derive(Default)]
pub struct Markup(String);

impl Markup {
    pub fn new() -> Self {
        Self(String::with_capacity(16 * 1024))
    }

    /// The markup written.
    pub fn finish(self) -> String {
        self.0
    }

    /// `<tag attrs…>inner</tag>`.
    pub fn el(
        &mut self,
        tag: &'static str,
        attrs: &[(&'static str, &str)],
        inner: impl FnOnce(&mut Self),
    ) -> &mut Self {
        self.open(tag, attrs);
        inner(self);
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    /// An element without content, such as `<br>`.
    pub fn void(&mut self, tag: &'static str) -> &mut Self {
        self.open(tag, &[]);
        self
    }

    fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) {
        self.0.push('<');
        self.0.push_str(tag);
        for (name, value) in attrs {
            self.0.push(' ');
            self.0.push_str(name);
            self.0.push_str("=\"");
            html_escape::encode_double_quoted_attribute_to_string(value, &mut self.0);
            self.0.push('"');
        }
        self.0.push('>');
    }

    /// Text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Self {
        html_escape::encode_text_to_string(text, &mut self.0);
        self
    }

    /// A table cell of the lists.
    pub fn td(&mut self, inner: impl FnOnce(&mut Self)) -> &mut Self {
        self.el("td", &[("class", TD)], inner)
    }

    /// A table cell holding text.
    pub fn td_text(&mut self, text: &str) -> &mut Self {
        self.td(|m| {
            m.text(text);
        })
    }

    /// A link inside the console (`href` is one of its paths).
    pub fn link(&mut self, href: &str, text: &str) -> &mut Self {
        self.el("a", &[("class", LINK), ("href", href)], |m| {
            m.text(text);
        })
    }

    /// Grey text (`<span class="muted">`).
    pub fn muted(&mut self, text: &str) -> &mut Self {
        self.el("span", &[("class", "muted")], |m| {
            m.text(text);
        })
    }

    /// What [`crate::ui::Badge`] shows.
    pub fn badge(&mut self, text: &str, tone: Tone) -> &mut Self {
        self.el("span", &[("class", tone.class())], |m| {
            m.text(text);
        })
    }

    /// An object's origin: provisioned over SCIM (it carries an external id) or made by hand.
    pub fn origin(&mut self, provisioned: bool) -> &mut Self {
        if provisioned {
            self.badge("SCIM", Tone::Plain)
        } else {
            self.badge("by hand", Tone::Warn)
        }
    }

    /// What [`crate::ui::StatusBadge`] shows.
    pub fn status(&mut self, enabled: bool, disabled: &str) -> &mut Self {
        if enabled {
            self.badge("enabled", Tone::Good)
        } else {
            self.badge(disabled, Tone::Bad)
        }
    }

    /// What [`crate::ui::When`] shows.
    pub fn when(&mut self, stamp: &Stamp) -> &mut Self {
        self.el(
            "time",
            &[("datetime", &stamp.iso), ("title", &stamp.absolute)],
            |m| {
                m.text(&stamp.relative);
                m.el("span", &[("class", "muted")], |m| {
                    m.text(" (").text(&stamp.absolute).text(")");
                });
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attribute_values_cannot_break_out_of_the_markup() {
        let mut m = Markup::new();
        m.el("tr", &[("data-testid", "row\"><script>")], |m| {
            m.td(|m| {
                m.link("/users/a\"b", "<img src=x onerror=alert(1)>");
            });
            m.td_text("Ann & Bob");
        });
        assert_eq!(
            m.finish(),
            "<tr data-testid=\"row&quot;&gt;&lt;script&gt;\"><td class=\"cell\">\
             <a class=\"link\" href=\"/users/a&quot;b\">&lt;img src=x onerror=alert(1)&gt;</a></td>\
             <td class=\"cell\">Ann &amp; Bob</td></tr>"
        );
    }

    /// Rendering components to HTML needs the `ssr` feature (on in the workspace's tests, as
    /// the server turns it on).
    #[cfg(feature = "ssr")]
    #[test]
    fn badges_and_moments_are_written_as_their_components_render_them() {
        use crate::ui::{Badge, StatusBadge, When};
        use leptos::prelude::*;
        let stamp = Stamp {
            iso: "2026-11-22T10:04:00Z".into(),
            absolute: "2026-11-22 10:04 UTC".into(),
            relative: "5 minutes ago".into(),
        };
        let mut m = Markup::new();
        m.status(false, "disabled: reclaim")
            .status(true, "disabled")
            .badge("SCIM & co", Tone::Plain)
            .origin(false)
            .when(&stamp);
        let components = view! {
            <StatusBadge enabled=false disabled="disabled: reclaim"/>
            <StatusBadge enabled=true/>
            <Badge text="SCIM & co" tone=Tone::Plain/>
            <Badge text="by hand" tone=Tone::Warn/>
            <When stamp=stamp.clone()/>
        }
        .to_html();
        // The components' HTML carries hydration markers (empty comments), which are no
        // content: the rows written as markup need none.
        assert_eq!(m.finish(), components.replace("<!>", ""));
    }
}
