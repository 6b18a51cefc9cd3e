//! The four roles and the permission each route declares. The matrix lives here and only here.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ContractManager,
    Finance,
    PolicyAdviser,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::ContractManager, Role::Finance, Role::PolicyAdviser];

    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ContractManager => "contract_manager",
            Role::Finance => "finance",
            Role::PolicyAdviser => "policy_adviser",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Beheerder",
            Role::ContractManager => "Contractmanager",
            Role::Finance => "Financieel medewerker",
            Role::PolicyAdviser => "Beleidsadviseur",
        }
    }

    /// The permission matrix (also in the README).
    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            Public | SignedIn | Read => true,
            ParticipantData => self != Role::PolicyAdviser,
            ManageContracts => matches!(self, Role::Admin | Role::ContractManager),
            ManageFinance => matches!(self, Role::Admin | Role::Finance),
            ManageForecasts => matches!(self, Role::Admin | Role::Finance | Role::PolicyAdviser),
            Admin => self == Role::Admin,
        }
    }
}

/// What a route requires. Every route declares one; the router refuses to exist without it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Permission {
    /// Anyone, signed in or not (login page, health checks, stylesheet).
    Public,
    /// Any signed-in user, for their own session (logout, own password).
    SignedIn,
    /// Read aggregate and register data (every role).
    Read,
    /// Read participant-level data (everyone but the policy adviser).
    ParticipantData,
    /// Change providers, marks, contracts, placements and quality.
    ManageContracts,
    /// Imports, funding, attribution, reconciliation, year close.
    ManageFinance,
    /// Forecast scenarios and overview snapshots (the policy adviser's work; finance too).
    ManageForecasts,
    /// Users, settings, audit log.
    Admin,
}

impl Permission {
    pub const ALL: [Permission; 8] = [
        Permission::Public,
        Permission::SignedIn,
        Permission::Read,
        Permission::ParticipantData,
        Permission::ManageContracts,
        Permission::ManageFinance,
        Permission::ManageForecasts,
        Permission::Admin,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Permission::Public => "iedereen",
            Permission::SignedIn => "ingelogd",
            Permission::Read => "lezen",
            Permission::ParticipantData => "deelnemergegevens lezen",
            Permission::ManageContracts => "contracten beheren",
            Permission::ManageFinance => "financiën beheren",
            Permission::ManageForecasts => "scenario's en snapshots beheren",
            Permission::Admin => "beheer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_matches_the_readme() {
        use Permission::*;
        let expect = |role: Role, allowed: &[Permission]| {
            for p in Permission::ALL {
                assert_eq!(role.may(p), allowed.contains(&p), "{role:?} {p:?}");
            }
        };
        expect(Role::Admin, &Permission::ALL);
        expect(Role::ContractManager, &[Public, SignedIn, Read, ParticipantData, ManageContracts]);
        expect(Role::Finance, &[Public, SignedIn, Read, ParticipantData, ManageFinance, ManageForecasts]);
        expect(Role::PolicyAdviser, &[Public, SignedIn, Read, ManageForecasts]);
    }
}
