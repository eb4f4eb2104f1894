//! The IAM Identity Center instance as sso-admin shows it: its ARN and identity store, the
//! applications registered on it (the Q Developer profile among them) and their assignments.

use chrono::{DateTime, Utc};

/// Provider ARN of Amazon Q Developer's application (`QDefaultProfile`).
pub const Q_DEVELOPER_PROVIDER: &str = "arn:aws:sso::aws:applicationProvider/codewhisperer";
/// Name Q Developer gives its application.
pub const Q_DEVELOPER_APPLICATION: &str = "QDefaultProfile";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    User,
    Group,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "USER",
            PrincipalType::Group => "GROUP",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "USER" => Some(PrincipalType::User),
            "GROUP" => Some(PrincipalType::Group),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub application_arn: String,
    pub name: String,
    pub provider_arn: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// One assignment of an application to a user or group (all `ListApplicationAssignments` says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub application_arn: String,
    pub principal_type: PrincipalType,
    /// Identity Center user or group id.
    pub principal_id: String,
}

/// The region the emulated Identity Center's sign-in endpoints name.
pub const SAML_REGION: &str = "us-east-1";

/// Identity Center's SAML service-provider values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProvider {
    pub entity_id: String,
    pub acs_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub instance_arn: String,
    pub identity_store_id: String,
    pub owner_account_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub applications: Vec<Application>,
    pub assignments: Vec<Assignment>,
}

impl Instance {
    pub fn application(&self, arn: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.application_arn == arn)
    }

    /// The Q Developer application, when registered.
    pub fn q_developer(&self) -> Option<&Application> {
        self.applications
            .iter()
            .find(|a| a.provider_arn == Q_DEVELOPER_PROVIDER)
    }

    /// Identity Center's SAML service provider (what its console's "Download metadata file"
    /// describes): the entity id `https://<region>.signin.aws.amazon.com/platform/saml/<store>`
    /// and an ACS URL with an id derived from the store, so every IdP the sandbox emulates
    /// is configured with the same values.
    pub fn saml_service_provider(&self) -> ServiceProvider {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.identity_store_id.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        let acs_id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let base = format!("https://{SAML_REGION}.signin.aws.amazon.com/platform/saml");
        ServiceProvider {
            entity_id: format!("{base}/{}", self.identity_store_id),
            acs_url: format!("{base}/acs/{acs_id}"),
        }
    }

    pub fn assignments_of(&self, application_arn: &str) -> Vec<&Assignment> {
        self.assignments
            .iter()
            .filter(|a| a.application_arn == application_arn)
            .collect()
    }
}
