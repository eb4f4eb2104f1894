//! The IdPs' SAML metadata: Entra's federation metadata for the Identity Center app carries the
//! certificate Graph's keyCredentials describe (read back with x509-parser, thumbprint computed
//! here), starts with a BOM as Entra's may, and answers a wrong app id with an error.

use reqwest::StatusCode;
use sandbox::seed::{Organisation, SeedSpec};
use sandbox::server::{RunningSandbox, SandboxConfig};
use sha1::{Digest, Sha1};

/// The base64 DER of the first `X509Certificate` in an IdP metadata document (read with the
/// AWS SDK's XML decoder).
pub fn certificate_in(xml: &str) -> Vec<u8> {
    use aws_smithy_xml::decode::{Document, ScopedDecoder, try_data};
    use base64::Engine;
    fn find(el: &mut ScopedDecoder<'_, '_>) -> Option<String> {
        while let Some(mut child) = el.next_tag() {
            if child.start_el().local() == "X509Certificate" {
                return try_data(&mut child).ok().map(|t| t.trim().to_string());
            }
            if let Some(found) = find(&mut child) {
                return Some(found);
            }
        }
        None
    }
    let xml = xml.trim_start_matches('\u{feff}');
    let mut doc = Document::new(xml);
    let mut root = doc.root_element().unwrap();
    let text = find(&mut root).expect("an X509Certificate element");
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn entra_federation_metadata_carries_the_app_signing_certificate() {
    let org = Organisation::generate(&SeedSpec::demo()).unwrap();
    let sandbox = RunningSandbox::start_organisation(org, SandboxConfig::default())
        .await
        .unwrap();
    let entra = sandbox.entra().unwrap();
    let (tenant, app_id, key_end) = {
        let t = entra.state.tenant().unwrap();
        let sp = &t.service_principal;
        (
            t.tenant_id.clone(),
            sp.app_id.clone(),
            sp.signing_key.certificate.not_after,
        )
    };
    let http = reqwest::Client::new();
    let url = format!(
        "{}/{tenant}/federationmetadata/2007-06/federationmetadata.xml",
        sandbox.login_base()
    );
    let r = http
        .get(format!("{url}?appid={app_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xef, 0xbb, 0xbf]), "a UTF-8 BOM first");
    let xml = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(xml.contains(&format!("entityID=\"https://sts.windows.net/{tenant}/\"")));
    let der = certificate_in(&xml);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert_eq!(cert.validity().not_after.timestamp(), key_end.timestamp());
    let days_left = (key_end - sandbox.clock().now()).num_days();
    assert!((19..=20).contains(&days_left), "planted: {days_left} days");

    // Graph's thumbprint is the SHA-1 of this very certificate.
    let token: serde_json::Value = http
        .post(format!(
            "{}/{tenant}/oauth2/v2.0/token",
            sandbox.login_base()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", entra.app.client_id.as_str()),
            ("client_secret", entra.app.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sps: serde_json::Value = http
        .get(format!(
            "{}/v1.0/servicePrincipals?$filter=appId%20eq%20'{app_id}'",
            sandbox.graph_base()
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let thumbprint = sps["value"][0]["preferredTokenSigningKeyThumbprint"]
        .as_str()
        .unwrap();
    assert_eq!(thumbprint, hex_upper(&Sha1::digest(&der)));

    // The wrong app id is refused, with the right one named.
    let r = http
        .get(format!("{url}?appid=00000000-0000-0000-0000-000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains(&app_id));
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
