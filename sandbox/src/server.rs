//! Runs the sandbox's endpoints on loopback: one HTTP listener serving the AWS JSON 1.1 protocol
//! at `/` (the SDKs' `endpoint_url`). Started by tests, and later by `tessera demo`.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::routing::post;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::aws::limits::{Limits, Throttle};
use crate::aws::sigv4::StaticCredentials;
use crate::aws::{AwsState, SharedAwsState};
use crate::directory::Directory;
use crate::instance::Instance;

/// How to run the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Port 0 picks any free port (see [`RunningSandbox::addr`]).
    pub listen: SocketAddr,
    pub credentials: StaticCredentials,
    pub limits: Limits,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: StaticCredentials::default(),
            limits: Limits::default(),
        }
    }
}

/// A sandbox listening on a port until [`RunningSandbox::stop`] (or drop).
pub struct RunningSandbox {
    addr: SocketAddr,
    state: SharedAwsState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// Serves `directory` and `instance` as `config` says.
    pub async fn start(
        directory: Directory,
        instance: Instance,
        config: SandboxConfig,
    ) -> std::io::Result<Self> {
        let state: SharedAwsState = Arc::new(AwsState {
            directory: RwLock::new(directory),
            instance: RwLock::new(instance),
            credentials: config.credentials,
            throttle: Throttle::new(config.limits),
        });
        let addr = config.listen;
        let app = Router::new()
            .route("/", post(crate::aws::handle))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "sandbox stopped with an error");
            }
        });
        tracing::info!(%addr, "sandbox listening");
        Ok(Self {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The endpoint URL to give AWS SDK clients.
    pub fn aws_endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The served state, for tests that look behind the API.
    pub fn state(&self) -> &SharedAwsState {
        &self.state
    }

    /// Stops accepting requests and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
