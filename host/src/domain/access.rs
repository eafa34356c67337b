//! Who may act as what. Every admin or staff check asks these, so that an account's status
//! counts everywhere: a pending or rejected account keeps its role in the database but none
//! of its powers (issue 13).

use crate::domain::types::{AccountStatus, Role, User};

/// An approved admin. An account whose role is `admin` but whose status is pending or
/// rejected is not one.
pub fn is_admin(user: &User) -> bool {
    user.role == Role::Admin && user.status == AccountStatus::Approved
}

/// An approved owner: chain staff, whose chains are checked per resource.
pub fn is_owner(user: &User) -> bool {
    user.role == Role::Owner && user.status == AccountStatus::Approved
}

/// Chain staff: an approved owner or an approved admin.
pub fn is_staff(user: &User) -> bool {
    is_admin(user) || is_owner(user)
}

/// Whether the account may sign in at all (asked only once its password was verified): every
/// account but a rejected one. A pending owner signs in to see its status.
pub fn may_sign_in(user: &User) -> bool {
    user.status != AccountStatus::Rejected
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, status: AccountStatus) -> User {
        User {
            id: uuid::Uuid::now_v7(),
            name: "x".into(),
            email: "x@example.com".into(),
            role,
            status,
            token_version: 0,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn only_approved_accounts_have_their_roles_powers() {
        for status in [AccountStatus::Pending, AccountStatus::Rejected] {
            assert!(!is_admin(&user(Role::Admin, status)));
            assert!(!is_staff(&user(Role::Admin, status)));
            assert!(!is_owner(&user(Role::Owner, status)));
            assert!(!is_staff(&user(Role::Owner, status)));
        }
        assert!(is_admin(&user(Role::Admin, AccountStatus::Approved)));
        assert!(is_staff(&user(Role::Admin, AccountStatus::Approved)));
        assert!(is_staff(&user(Role::Owner, AccountStatus::Approved)));
        assert!(!is_admin(&user(Role::Owner, AccountStatus::Approved)));
        assert!(!is_staff(&user(Role::Customer, AccountStatus::Approved)));
        assert!(may_sign_in(&user(Role::Owner, AccountStatus::Pending)));
        assert!(!may_sign_in(&user(Role::Customer, AccountStatus::Rejected)));
        assert!(!may_sign_in(&user(Role::Admin, AccountStatus::Rejected)));
    }
}
