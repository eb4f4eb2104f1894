//! The signed-in person, shown in the header with their roles and the sign-out buttons (this
//! browser, or everywhere).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is signed in, as the header shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    /// Role labels ("Security admin", …); empty for a member.
    pub roles: Vec<String>,
    /// Whether the deployment's internals (the status card) are theirs to see.
    pub operator: bool,
    /// Whether they are a security admin (ending everyone's sessions).
    pub admin: bool,
    /// A team lead's teams (the IdP groups they own).
    pub teams: Vec<String>,
    /// The session's token for the sign-out form.
    pub csrf: String,
}

/// The caller (any signed-in person).
#[server(prefix = "/api", endpoint = "whoami", client = crate::csrf::CsrfClient)]
pub async fn whoami() -> Result<Me, ServerFnError> {
    use domain::access::{Access, Caller, Decision};
    match crate::access::caller() {
        Caller::Anonymous => Err(ServerFnError::new("sign in first")),
        caller @ Caller::Person { .. } => {
            let operator =
                caller.decide(Access::AnyOf(crate::access::OPERATORS)) == Decision::Allow;
            let admin = caller.decide(Access::AnyOf(crate::access::ADMINS)) == Decision::Allow;
            let Caller::Person { name, roles, .. } = caller else {
                return Err(ServerFnError::new("sign in first"));
            };
            Ok(Me {
                name,
                roles: roles.iter().map(|r| r.label().to_string()).collect(),
                operator,
                admin,
                teams: crate::access::teams(),
                csrf: crate::access::csrf_token().unwrap_or_default(),
            })
        }
    }
}

/// Name, roles and the sign-out buttons, for the signed-in person `me` (the header waits for it).
#[component]
pub fn UserMenu(me: Result<Me, ServerFnError>) -> impl IntoView {
    match me {
        Ok(me) => {
            let roles = if me.roles.is_empty() {
                "Member".to_string()
            } else {
                me.roles.join(", ")
            };
            view! {
                <div class="ml-auto flex items-center gap-3 text-sm">
                    <span data-testid="me-name" class="font-medium">{me.name}</span>
                    <span data-testid="me-roles" class="rounded bg-slate-100 px-2 py-0.5 text-slate-700 dark:bg-slate-800 dark:text-slate-300">{roles}</span>
                    {(!me.teams.is_empty()).then(|| view! {
                        <span data-testid="me-teams" class="hidden text-slate-500 md:inline dark:text-slate-400" title="The groups you own in the IdP: your teams">
                            {format!("Teams: {}", me.teams.join(", "))}
                        </span>
                    })}
                    <form method="post" action="/auth/sign-out">
                        <input type="hidden" name="csrf" value=me.csrf.clone()/>
                        <button type="submit" data-testid="sign-out" class="rounded-md border border-slate-300 px-2 py-1 hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">"Sign out"</button>
                    </form>
                    <form method="post" action="/auth/sign-out-everywhere">
                        <input type="hidden" name="csrf" value=me.csrf/>
                        <button type="submit" data-testid="sign-out-everywhere" title="Sign out of Tessera in every browser and device" class="rounded-md px-2 py-1 text-slate-600 underline-offset-2 hover:underline dark:text-slate-400">"Everywhere"</button>
                    </form>
                </div>
            }
            .into_any()
        }
        Err(_) => view! {
            <a class="ml-auto text-sm text-indigo-600 underline" href="/auth/sign-in">"Sign in"</a>
        }
        .into_any(),
    }
}
