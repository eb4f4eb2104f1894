//! Who leads a group, for the group's page: its owners in the IdP (Entra ID's group owners,
//! read through Graph when the page asks) and the leads `auth.teams` gives it to. PingOne's
//! groups have no owners, so there the configuration is the only source.

use std::collections::BTreeMap;

use app::state::{Leads, TeamLeads};
use futures_util::future::BoxFuture;

/// Team leads from the IdP's directory and the configuration.
pub struct GroupLeads {
    /// Entra's directory, when Entra ID is the IdP.
    directory: Option<connectors::entra::EntraReader>,
    /// Whether the configured IdP has group owners (Entra ID) or not (PingOne, none).
    idp_has_owners: bool,
    /// `auth.teams`: a lead's user name or email → the group names or ids of their teams.
    teams: BTreeMap<String, Vec<String>>,
}

impl std::fmt::Debug for GroupLeads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupLeads")
            .field("directory", &self.directory.is_some())
            .field("teams", &self.teams.len())
            .finish()
    }
}

impl GroupLeads {
    pub fn new(
        directory: Option<connectors::entra::EntraReader>,
        teams: &BTreeMap<String, Vec<String>>,
    ) -> Self {
        Self {
            idp_has_owners: directory.is_some(),
            directory,
            teams: teams.clone(),
        }
    }

    /// The leads `auth.teams` names for the group with this IdP id or name (any case).
    fn configured(&self, idp_id: Option<&str>, name: &str) -> Vec<String> {
        self.teams
            .iter()
            .filter(|(_, groups)| {
                groups.iter().any(|g| {
                    g.eq_ignore_ascii_case(name) || idp_id.is_some_and(|id| g.as_str() == id)
                })
            })
            .map(|(lead, _)| lead.clone())
            .collect()
    }
}

impl TeamLeads for GroupLeads {
    fn leads_of<'a>(
        &'a self,
        idp_id: Option<&'a str>,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Leads, String>> {
        Box::pin(async move {
            let owners = match (&self.directory, idp_id) {
                (Some(directory), Some(id)) => directory.owners_of(id).await.map_err(|e| {
                    tracing::warn!(error = %e, group = id, "the group's owners could not be read");
                    format!("The group's owners could not be read from Entra ID: {e}")
                })?,
                _ => Vec::new(),
            };
            Ok(Leads {
                owners,
                configured: self.configured(idp_id, name),
                idp_has_owners: self.idp_has_owners,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_leads_are_found_by_group_name_in_any_case_or_by_id() {
        let teams = BTreeMap::from([
            ("ann@example.com".to_string(), vec!["Platform".to_string()]),
            (
                "bob@example.com".to_string(),
                vec!["idp-g-7".to_string(), "Data".to_string()],
            ),
            ("cy@example.com".to_string(), vec!["Mobile".to_string()]),
        ]);
        let leads = GroupLeads::new(None, &teams);
        assert_eq!(
            leads.configured(Some("idp-g-1"), "platform"),
            ["ann@example.com"]
        );
        assert_eq!(
            leads.configured(Some("idp-g-7"), "Web"),
            ["bob@example.com"]
        );
        assert_eq!(leads.configured(None, "DATA"), ["bob@example.com"]);
        assert!(leads.configured(Some("idp-g-9"), "Finance").is_empty());
    }
}
