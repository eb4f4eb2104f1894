//! SAML 2.0 IdP metadata as the emulated IdPs publish it for the Identity Center application:
//! entity id, the signing certificate (a real X.509 certificate, base64 DER), NameID format and
//! single sign-on / logout endpoints. Written with the AWS SDK's XML writer (escaping included)
//! and signed as the IdPs sign theirs: an enveloped XML-DSig signature (RSA-SHA256, exclusive
//! canonicalization) over the whole document, the first child of `EntityDescriptor`, with the
//! signing certificate in its `KeyInfo` (the xml-sec crate fills in digest, signature and key).

use aws_smithy_xml::encode::XmlWriter;

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// What an IdP's metadata says.
pub struct IdpMetadata<'a> {
    /// The document's `ID` attribute.
    pub id: &'a str,
    pub entity_id: &'a str,
    /// Base64 of the signing certificate's DER.
    pub certificate: &'a str,
    pub name_id_format: &'a str,
    pub sso_url: &'a str,
    pub slo_url: &'a str,
}

const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// The metadata document (UTF-8, with an XML declaration), signed with the process key whose
/// certificate is `certificate_der` (the one the metadata describes).
pub fn signed_idp_metadata(m: &IdpMetadata<'_>, certificate_der: &[u8]) -> Result<String, String> {
    use xml_sec::xmldsig::{RsaSigningKey, SignContext, X509CertificateKeyInfoWriter};
    let key = crate::certs::process_key()?;
    let signing_key = RsaSigningKey::from_pkcs8_pem(&key.pkcs8_pem)
        .map_err(|e| format!("the signing key cannot be read: {e}"))?;
    let key_info = X509CertificateKeyInfoWriter::from_pem(&pem_certificate(certificate_der))
        .map_err(|e| format!("the signing certificate cannot be read: {e}"))?;
    SignContext::new(&signing_key)
        .key_info_writer(&key_info)
        .sign_template(&idp_metadata(m))
        .map_err(|e| format!("the metadata cannot be signed: {e}"))
}

/// PEM of a DER certificate.
fn pem_certificate(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// The signature template: what is signed and how, with empty digest, value and key info.
fn signature_template(root: &mut aws_smithy_xml::encode::ScopeWriter<'_, '_>, id: &str) {
    let mut signature = root.start_el("ds:Signature").finish();
    let mut info = signature.start_el("ds:SignedInfo").finish();
    let mut el = info.start_el("ds:CanonicalizationMethod");
    el.write_attribute("Algorithm", EXC_C14N);
    el.finish();
    let mut el = info.start_el("ds:SignatureMethod");
    el.write_attribute(
        "Algorithm",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    );
    el.finish();
    let mut el = info.start_el("ds:Reference");
    el.write_attribute("URI", &format!("#{id}"));
    let mut reference = el.finish();
    let mut transforms = reference.start_el("ds:Transforms").finish();
    for algorithm in [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        EXC_C14N,
    ] {
        let mut el = transforms.start_el("ds:Transform");
        el.write_attribute("Algorithm", algorithm);
        el.finish();
    }
    transforms.finish();
    let mut el = reference.start_el("ds:DigestMethod");
    el.write_attribute("Algorithm", "http://www.w3.org/2001/04/xmlenc#sha256");
    el.finish();
    reference.start_el("ds:DigestValue").finish();
    reference.finish();
    info.finish();
    signature.start_el("ds:SignatureValue").finish();
    signature.start_el("ds:KeyInfo").finish();
    signature.finish();
}

/// The unsigned metadata document with an empty signature template (UTF-8, with an XML
/// declaration).
fn idp_metadata(m: &IdpMetadata<'_>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    {
        let mut doc = XmlWriter::new(&mut out);
        let mut el = doc
            .start_el("md:EntityDescriptor")
            .write_ns(MD, Some("md"))
            .write_ns(DS, Some("ds"));
        el.write_attribute("ID", m.id);
        el.write_attribute("entityID", m.entity_id);
        let mut root = el.finish();
        signature_template(&mut root, m.id);
        let mut el = root.start_el("md:IDPSSODescriptor");
        el.write_attribute("WantAuthnRequestsSigned", "false");
        el.write_attribute("protocolSupportEnumeration", PROTOCOL);
        let mut idp = el.finish();
        let mut el = idp.start_el("md:KeyDescriptor");
        el.write_attribute("use", "signing");
        let mut key = el.finish();
        let mut info = key.start_el("ds:KeyInfo").finish();
        let mut data = info.start_el("ds:X509Data").finish();
        data.start_el("ds:X509Certificate")
            .finish()
            .data(m.certificate);
        data.finish();
        info.finish();
        key.finish();
        for binding in [REDIRECT, POST] {
            let mut el = idp.start_el("md:SingleLogoutService");
            el.write_attribute("Binding", binding);
            el.write_attribute("Location", m.slo_url);
            el.finish();
        }
        idp.start_el("md:NameIDFormat")
            .finish()
            .data(m.name_id_format);
        for binding in [REDIRECT, POST] {
            let mut el = idp.start_el("md:SingleSignOnService");
            el.write_attribute("Binding", binding);
            el.write_attribute("Location", m.sso_url);
            el.finish();
        }
        idp.finish();
        root.finish();
    }
    out
}

/// Identity Center's service-provider metadata, as its console's "Download metadata file"
/// gives it (unsigned): entity id, NameID format, the ACS endpoint.
pub fn service_provider_metadata(sp: &crate::instance::ServiceProvider) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    {
        let mut doc = XmlWriter::new(&mut out);
        let mut el = doc.start_el("md:EntityDescriptor").write_ns(MD, Some("md"));
        el.write_attribute("entityID", &sp.entity_id);
        let mut root = el.finish();
        let mut el = root.start_el("md:SPSSODescriptor");
        el.write_attribute("AuthnRequestsSigned", "false");
        el.write_attribute("WantAssertionsSigned", "true");
        el.write_attribute("protocolSupportEnumeration", PROTOCOL);
        let mut desc = el.finish();
        desc.start_el("md:NameIDFormat")
            .finish()
            .data("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
        let mut el = desc.start_el("md:AssertionConsumerService");
        el.write_attribute("Binding", POST);
        el.write_attribute("Location", &sp.acs_url);
        el.write_attribute("index", "0");
        el.write_attribute("isDefault", "true");
        el.finish();
        desc.finish();
        root.finish();
    }
    out
}
