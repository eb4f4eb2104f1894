//! SAML 2.0 metadata, read safely: Identity Center's service-provider metadata (the file its
//! console offers for download) and an IdP's metadata (fetched from its published URL, or
//! uploaded). Documents larger than [`MAX_BYTES`] are refused before parsing; the parser
//! (roxmltree) refuses any DTD, so neither entity expansion ("billion laughs") nor external
//! entities can happen; a leading UTF-8 byte-order mark (Entra's) is accepted. Signing
//! certificates are read with x509-parser for their subject, validity and SHA-1 thumbprint.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use domain::connection::{Certificate, IdpMetadata, SpMetadata};
use roxmltree::{Document, Node, ParsingOptions};
use sha1::{Digest, Sha1};

/// The largest metadata document read (real ones are a few kilobytes).
pub const MAX_BYTES: usize = 256 * 1024;

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Why a metadata document was refused, in words an admin can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error(
        "the document is {0} bytes; SAML metadata is a few kilobytes (at most {MAX_BYTES} bytes are read): is this the right file?"
    )]
    TooLarge(usize),
    #[error("the document is empty: choose the metadata XML file")]
    Empty,
    #[error("the document is not UTF-8 text: SAML metadata is an XML file")]
    NotText,
    #[error(
        "the document declares a DTD, which metadata never needs; it is refused so no entity can be expanded or fetched"
    )]
    Dtd,
    #[error("the document is not well-formed XML ({0})")]
    Xml(String),
    #[error("{0}")]
    NotThisKind(String),
    #[error("the metadata has no {0}")]
    Missing(&'static str),
    #[error("a signing certificate in the metadata cannot be read ({0})")]
    Certificate(String),
    #[error("the metadata could not be fetched from {url}: {reason}")]
    Fetch { url: String, reason: String },
}

fn document(bytes: &[u8]) -> Result<Document<'_>, MetadataError> {
    if bytes.len() > MAX_BYTES {
        return Err(MetadataError::TooLarge(bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| MetadataError::NotText)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(MetadataError::Empty);
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: 100_000,
    };
    Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => MetadataError::Dtd,
        e => MetadataError::Xml(e.to_string()),
    })
}

fn is(node: &Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(ns)
}

fn children<'a, 'input>(
    node: Node<'a, 'input>,
    ns: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children().filter(move |c| is(c, ns, name))
}

/// The `EntityDescriptor` holding a `role` descriptor: the root, or one inside an
/// `EntitiesDescriptor`.
fn entity_with<'a, 'input>(
    doc: &'a Document<'input>,
    role: &'static str,
    wrong_kind: &str,
) -> Result<(Node<'a, 'input>, Node<'a, 'input>), MetadataError> {
    let root = doc.root_element();
    let entities: Vec<Node<'a, 'input>> = if is(&root, MD, "EntityDescriptor") {
        vec![root]
    } else if is(&root, MD, "EntitiesDescriptor") {
        root.descendants()
            .filter(|n| is(n, MD, "EntityDescriptor"))
            .collect()
    } else {
        return Err(MetadataError::NotThisKind(format!(
            "this is not SAML metadata (its root element is {:?}, not md:EntityDescriptor)",
            root.tag_name().name()
        )));
    };
    entities
        .into_iter()
        .find_map(|e| children(e, MD, role).next().map(|r| (e, r)))
        .ok_or_else(|| MetadataError::NotThisKind(wrong_kind.to_string()))
}

fn entity_id(entity: &Node<'_, '_>) -> Result<String, MetadataError> {
    entity
        .attribute("entityID")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or(MetadataError::Missing("entityID"))
}

fn texts(node: Node<'_, '_>, name: &'static str) -> Vec<String> {
    children(node, MD, name)
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn locations(node: Node<'_, '_>, name: &'static str) -> Vec<String> {
    children(node, MD, name)
        .filter_map(|n| n.attribute("Location"))
        .map(str::to_string)
        .collect()
}

/// Identity Center's service-provider metadata: entity id, ACS URL(s), NameID formats.
pub fn parse_sp(bytes: &[u8]) -> Result<SpMetadata, MetadataError> {
    let doc = document(bytes)?;
    let (entity, sp) = entity_with(
        &doc,
        "SPSSODescriptor",
        "this metadata describes no service provider (no SPSSODescriptor): is it the IdP's? Identity Center's is the file from Settings → Identity source → Change identity source → Download metadata file",
    )?;
    let acs_urls = locations(sp, "AssertionConsumerService");
    if acs_urls.is_empty() {
        return Err(MetadataError::Missing("AssertionConsumerService location"));
    }
    Ok(SpMetadata {
        entity_id: entity_id(&entity)?,
        acs_urls,
        name_id_formats: texts(sp, "NameIDFormat"),
    })
}

/// An IdP's metadata: entity id, single sign-on URLs, NameID formats, signing certificates.
pub fn parse_idp(bytes: &[u8]) -> Result<IdpMetadata, MetadataError> {
    let doc = document(bytes)?;
    let (entity, idp) = entity_with(
        &doc,
        "IDPSSODescriptor",
        "this metadata describes no identity provider (no IDPSSODescriptor): is it Identity Center's? The IdP's is its federation metadata (Entra: SAML Certificates → Federation Metadata XML)",
    )?;
    let sso_urls = locations(idp, "SingleSignOnService");
    if sso_urls.is_empty() {
        return Err(MetadataError::Missing("SingleSignOnService location"));
    }
    let mut certificates = Vec::new();
    for key in children(idp, MD, "KeyDescriptor") {
        if key.attribute("use").is_some_and(|u| u != "signing") {
            continue;
        }
        for cert in key.descendants().filter(|n| is(n, DS, "X509Certificate")) {
            certificates.push(certificate(cert.text().unwrap_or_default())?);
        }
    }
    Ok(IdpMetadata {
        entity_id: entity_id(&entity)?,
        sso_urls,
        name_id_formats: texts(idp, "NameIDFormat"),
        certificates,
    })
}

/// A certificate from an `X509Certificate` element's base64 text.
pub fn certificate(base64_text: &str) -> Result<Certificate, MetadataError> {
    let compact: String = base64_text.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| MetadataError::Certificate(format!("not base64: {e}")))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| MetadataError::Certificate(e.to_string()))?;
    let time = |t: x509_parser::time::ASN1Time| {
        DateTime::<Utc>::from_timestamp(t.timestamp(), 0)
            .ok_or_else(|| MetadataError::Certificate("a validity date is out of range".into()))
    };
    let validity = cert.validity();
    Ok(Certificate {
        subject: cert.subject().to_string(),
        thumbprint: Sha1::digest(&der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect(),
        not_before: time(validity.not_before)?,
        not_after: time(validity.not_after)?,
    })
}

/// Fetches a metadata document (published metadata needs no credentials), refusing more than
/// [`MAX_BYTES`]; retried on 5xx and transport errors.
pub async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, MetadataError> {
    use backon::{ExponentialBuilder, Retryable};
    let failed = |reason: String| MetadataError::Fetch {
        url: url.to_string(),
        reason,
    };
    let once = || async {
        let mut response = client
            .get(url)
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| (true, failed(e.without_url().to_string())))?;
        let status = response.status();
        if !status.is_success() {
            return Err((
                status.is_server_error() || status.as_u16() == 429,
                failed(format!("HTTP {status}")),
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| (true, failed(e.without_url().to_string())))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BYTES {
                return Err((false, MetadataError::TooLarge(body.len())));
            }
        }
        Ok(body)
    };
    once.retry(
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_times(2)
            .with_jitter(),
    )
    .when(|(retry, _)| *retry)
    .await
    .map_err(|(_, e)| e)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SP: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067c2b0f1">
  <md:SPSSODescriptor AuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://us-east-1.signin.aws.amazon.com/platform/saml/acs/abc" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#;

    #[test]
    fn service_provider_metadata_gives_entity_id_acs_and_nameid_format() {
        let sp = parse_sp(format!("\u{feff}{SP}").as_bytes()).unwrap();
        assert_eq!(
            sp.entity_id,
            "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067c2b0f1"
        );
        assert_eq!(
            sp.acs_urls,
            ["https://us-east-1.signin.aws.amazon.com/platform/saml/acs/abc"]
        );
        assert_eq!(
            sp.name_id_formats,
            ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"]
        );
    }

    #[test]
    fn entity_expansion_and_external_entities_are_refused() {
        let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol2;"/>"#;
        assert_eq!(parse_sp(laughs.as_bytes()), Err(MetadataError::Dtd));
        let external = r#"<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>"#;
        assert_eq!(parse_idp(external.as_bytes()), Err(MetadataError::Dtd));
    }

    #[test]
    fn wrong_documents_get_an_error_that_says_what_to_upload() {
        let big = vec![b' '; MAX_BYTES + 1];
        assert_eq!(parse_sp(&big), Err(MetadataError::TooLarge(MAX_BYTES + 1)));
        assert_eq!(parse_sp(b"  "), Err(MetadataError::Empty));
        assert!(matches!(
            parse_sp(b"<md:Entity"),
            Err(MetadataError::Xml(_))
        ));
        let e = parse_idp(SP.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("no IDPSSODescriptor"), "{e}");
        let e = parse_sp(b"<html><body>Sign in</body></html>")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not SAML metadata"), "{e}");
        let no_acs = SP.replace("AssertionConsumerService", "ArtifactResolutionService");
        assert_eq!(
            parse_sp(no_acs.as_bytes()),
            Err(MetadataError::Missing("AssertionConsumerService location"))
        );
        let bad_cert = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="e">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>bm90IGEgY2VydA==</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp/sso"/>
</md:IDPSSODescriptor></md:EntityDescriptor>"#;
        assert!(matches!(
            parse_idp(bad_cert.as_bytes()),
            Err(MetadataError::Certificate(_))
        ));
    }
}
