//! The IdPs' SAML metadata: Entra's federation metadata for the Identity Center app carries the
//! certificate Graph's keyCredentials describe (read back with x509-parser, thumbprint computed
//! here), starts with a BOM as Entra's may, and answers a wrong app id with an error. Both IdPs'
//! metadata is signed: Debian's `xmlsec1` (libxmlsec1, an independent implementation) verifies
//! the signature with the certificate the IdP's API describes, and refuses a tampered document.

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

/// Verifies `xml`'s enveloped signature with `xmlsec1`, trusting only `certificate_der`; the
/// `ID` attribute of `EntityDescriptor` names the signed element.
pub fn xmlsec1_verify(xml: &str, certificate_der: &[u8]) -> Result<(), String> {
    use base64::Engine;
    let xmlsec1 = std::path::Path::new("/usr/bin/xmlsec1");
    assert!(
        xmlsec1.exists(),
        "xmlsec1 is missing: run `cargo xtask setup` (installs Debian's xmlsec1)"
    );
    let dir = tempfile::tempdir().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(certificate_der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    std::fs::write(dir.path().join("cert.pem"), pem).unwrap();
    std::fs::write(dir.path().join("metadata.xml"), xml).unwrap();
    let out = std::process::Command::new(xmlsec1)
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(dir.path().join("cert.pem"))
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
        ])
        .arg(dir.path().join("metadata.xml"))
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
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

    // Signed with that certificate's key; a changed entity id breaks the signature.
    xmlsec1_verify(&xml, &der).unwrap();
    let tampered = xml.replacen("sts.windows.net", "sts.attacker.example", 1);
    assert!(xmlsec1_verify(&tampered, &der).is_err());

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
