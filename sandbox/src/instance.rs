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

    pub fn assignments_of(&self, application_arn: &str) -> Vec<&Assignment> {
        self.assignments
            .iter()
            .filter(|a| a.application_arn == application_arn)
            .collect()
    }
}
