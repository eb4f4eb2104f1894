//! SAML 2.0 IdP metadata as the emulated IdPs publish it for the Identity Center application:
//! entity id, the signing certificate (a real X.509 certificate, base64 DER), NameID format and
//! single sign-on / logout endpoints. Written with the AWS SDK's XML writer (escaping included).

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

/// The metadata document (UTF-8, with an XML declaration).
pub fn idp_metadata(m: &IdpMetadata<'_>) -> String {
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
