//! The IdP's provisioning scope for the Identity Center app, whichever IdP it is: what Identity
//! Center should hold, compared with a snapshot by `domain::drift`.

use domain::scope::IdpScope;
use tokio_util::sync::CancellationToken;

use crate::entra::{EntraError, EntraReader};
use crate::pingone::{PingOneError, PingOneReader};

/// Reads the IdP's provisioning scope over its API. Implemented by [`EntraReader`] (Microsoft
/// Graph) and [`PingOneReader`] (the Platform API); the sandbox serves the same protocols.
pub trait IdpScopeSource {
    type Error: std::error::Error + Send + Sync + 'static;

    /// The users and groups in scope, each user once. Cancelling stops the read where it is.
    fn read_scope(
        &self,
        cancel: &CancellationToken,
    ) -> impl Future<Output = Result<IdpScope, Self::Error>> + Send;
}

/// Why a scope read failed, in the IdP's terms.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error(transparent)]
    Entra(#[from] EntraError),
    #[error(transparent)]
    PingOne(#[from] PingOneError),
}

impl ScopeError {
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            ScopeError::Entra(EntraError::Cancelled) | ScopeError::PingOne(PingOneError::Cancelled)
        )
    }
}

/// The IdP's side of the connection, for the checklist: its application for Identity Center
/// (None when it has none) and its provisioning into Identity Center (Err: why it could not be
/// read).
#[derive(Debug, Clone)]
pub struct IdpConnection {
    pub app: Option<domain::connection::IdpApp>,
    pub provisioning: Result<domain::connection::Provisioning, String>,
}

/// The deployment's IdP reader, chosen by configuration.
#[derive(Debug)]
pub enum IdpReader {
    Entra(EntraReader),
    PingOne(PingOneReader),
}

impl IdpReader {
    /// The IdP's name, for messages and the dashboard.
    pub fn idp(&self) -> &'static str {
        match self {
            IdpReader::Entra(_) => "Entra ID",
            IdpReader::PingOne(_) => "PingOne",
        }
    }
}

impl IdpReader {
    /// The IdP's side of the connection (application, provisioning).
    pub async fn connection(&self) -> Result<IdpConnection, ScopeError> {
        Ok(match self {
            IdpReader::Entra(r) => r.connection().await?,
            IdpReader::PingOne(r) => r.connection().await?,
        })
    }
}

impl IdpScopeSource for IdpReader {
    type Error = ScopeError;

    async fn read_scope(&self, cancel: &CancellationToken) -> Result<IdpScope, ScopeError> {
        Ok(match self {
            IdpReader::Entra(r) => r.read_scope(cancel).await?,
            IdpReader::PingOne(r) => r.read_scope(cancel).await?,
        })
    }
}
